// The soak's hostile peers: the hostile suite's inputs, aimed at a live
// `chronos-node` process of the soak network. Frames, raw peers, floods and
// the suite's own pre-handshake cases come from ../hostile by import; what
// is new here is what a live network adds: identities (the peer proves a
// fresh key, or attacks the proof), sealed and unlisted blocks on the
// target's real head, and a hostile Server the node dials back.
//
// Outcomes are typed: the node logs every close as structured JSON
// (`reason`, `code`, `remote`), and an attack matches the line by the
// remote end the node saw (our socket's local address).
import {
  type Block,
  createBlock,
  createNonce,
  generateNodeKey,
  handshakeTranscript,
  type Message,
  type NodeKey,
  sealBlock,
} from '@chronos/codec'
import type { CloseInfo } from '@chronos/transport'
import { type HostileContext, hostileCases, randomHash, sendMany } from '../hostile/cases.js'
import { frameOf, jsonFrame, RawPeer } from '../hostile/raw-peer.js'

/** A close the node logged: the typed fields of its `peer connection closed` line. */
export interface LoggedClose {
  reason: string
  code?: string
  initiator: string
  peer?: string
}

/** One live node of the soak, as an attack sees it. */
export interface LiveTarget {
  index: number
  /** Its own listen address: hostile peers come straight, not through a partition proxy. */
  address: string
  api: string
  genesis: Block
  roundMs: number
  maxBodyBytes: number
  permissioned: boolean
  /** The close of the node's connection whose remote end is `remote`, from its log (undefined: none within `timeoutMs`). */
  closeOf(remote: string, timeoutMs: number): Promise<LoggedClose | undefined>
  /** Closes it logged since the attack began (for "the honest peer was never refused"). */
  closesSince(): LoggedClose[]
  /** A key the genesis lists (the soak holds them): a block sealed with it passes the seal check, so only the check under test can refuse it. */
  listedKey: NodeKey | undefined
}

export interface AttackOutcome {
  ok: boolean
  detail: string
  /** Block hashes this attack offered that no node may ever store. */
  offered?: string[]
  /** Nothing to judge (e.g. no honest peer to frame yet): no verdict is counted. */
  skipped?: boolean
}

export interface Attack {
  name: string
  expected: string
  /** Only against a permissioned network (in an open one the block is valid). */
  permissionedOnly?: boolean
  run(target: LiveTarget): Promise<AttackOutcome>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Claimed Status addresses: unique per hostile peer, on port 1, where nothing listens (a node
// that dials one back gets a refusal at once, and no other test's listener sees the dial).
let claims = 0
const claimAddress = () => {
  claims++
  return `127.66.${(claims >> 8) & 255}.${claims & 255}:1`
}

function statusOf(target: LiveTarget, overrides: Record<string, unknown> = {}) {
  const status: Record<string, unknown> = {
    timestamp: Date.now(),
    height: 0,
    address: claimAddress(),
    genesis: target.genesis.block_header.hash,
    ...overrides,
  }
  for (const key of Object.keys(status)) if (status[key] === undefined) delete status[key]
  return status
}

// biome-ignore lint/suspicious/noExplicitAny: API JSON, read by the members each attack needs
async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  return response.json()
}

/** The typed close as the hostile suite spells it (`close CODE`), or what happened instead. */
async function closeVerdict(target: LiveTarget, peer: RawPeer, expected: string, waitMs = 10_000) {
  const closed = await Promise.race([peer.closed.then(() => true), sleep(waitMs).then(() => false)])
  if (!closed) {
    peer.close()
    return { ok: false, detail: `stayed open ${waitMs} ms` }
  }
  const info = await target.closeOf(peer.localAddress, 5_000)
  const observed = info ? `close ${info.code ?? info.reason}` : 'closed, no close logged'
  return { ok: observed === expected, detail: observed }
}

/**
 * A Client that proves `key` (section 11 steps 1-3) and returns once the node answered its
 * proof. `proof` replaces the honest step-3 proof (a bad or replayed one); then the node's
 * verdict is not awaited.
 */
export async function provenClient(
  target: LiveTarget,
  options: { key?: NodeKey; address?: string; proof?: (transcript: string) => string } = {},
): Promise<{ peer: RawPeer; proof: string; key: NodeKey }> {
  const key = options.key ?? generateNodeKey()
  const peer = await RawPeer.connect(target.address)
  const opening = statusOf(target, {
    address: options.address ?? claimAddress(),
    key: key.publicKey,
    nonce: createNonce(),
  })
  peer.claimed = opening.address as string
  peer.send({ code: 'SHAKEHAND', data: opening })
  const answer = (await peer.next('SHAKEHAND', 10_000))?.data as Record<string, string> | undefined
  if (!answer?.proof) throw new Error(`node ${target.index} did not prove its key`)
  const transcript = handshakeTranscript('client', {
    genesis: target.genesis.block_header.hash,
    clientKey: key.publicKey,
    clientNonce: opening.nonce as string,
    clientAddress: opening.address as string,
    serverKey: answer.key!,
    serverNonce: answer.nonce!,
    serverAddress: answer.address!,
  })
  const proof = options.proof ? options.proof(transcript) : key.sign(transcript)
  const { nonce: _, ...beat } = opening
  peer.send({ code: 'SHAKEHAND', data: { ...beat, timestamp: Date.now(), proof } })
  if (!options.proof && !(await peer.next('SHAKEHAND', 10_000)))
    throw new Error(`node ${target.index} refused an honest proof`)
  return { peer, proof, key }
}

/** The target's head now (from its API). */
async function headOf(target: LiveTarget): Promise<{ height: number; hash: string }> {
  const status = await getJson(`${target.api}/status`)
  return { height: status.height, hash: status.head }
}

/**
 * A block on the target's head, stamped just after a round began and sealed by `key` when
 * given. Early in the round: a block that turned late while it was built, sent and read by a
 * loaded node would be screened out as LATE (rightly, and with the connection left open)
 * before the check under test ever saw it.
 */
async function blockOnLiveHead(
  target: LiveTarget,
  tag: string,
  transactions: Block['transactions'],
  key: NodeKey | undefined,
): Promise<Block> {
  const { timestamp } = target.genesis.block_header
  const next = (Math.floor((Date.now() - timestamp) / target.roundMs) + 1) * target.roundMs
  await sleep(timestamp + next + 20 - Date.now())
  const head = await headOf(target)
  const block = createBlock({
    height: head.height + 1,
    prevHash: head.hash,
    timestamp: Date.now(),
    producer: key?.publicKey ?? `hostile-${tag}`,
    transactions,
  })
  return key ? sealBlock(block, key, target.genesis.block_header.hash) : block
}

/**
 * The hostile suite's own cases that need nothing but a connection (no in-process node): run
 * as they are, through a context whose `open` dials the live node and whose `closeOf` reads
 * the node's log. They close before any SHAKEHAND is accepted, so no identity is needed.
 */
const SUITE_CASES = [
  'declared length one over the limit',
  'body is not JSON',
  'unknown code',
  'SHAKEHAND with height 1e300',
  'SHAKEHAND naming another genesis',
  'PULL_BLOCK before SHAKEHAND',
  'half a frame, then silence (slowloris)',
  'connect and never send SHAKEHAND',
] as const

function suiteContext(target: LiveTarget): HostileContext {
  return {
    get node(): never {
      throw new Error('a soak node is another process: this case needs an in-process node')
    },
    genesis: target.genesis,
    maxBodyBytes: target.maxBodyBytes,
    status: (overrides) => statusOf(target, overrides),
    async open(options = {}) {
      if (options.handshake) throw new Error('suite cases after a handshake need an identity')
      const peer = await RawPeer.connect(target.address)
      peer.claimed = claimAddress()
      return peer
    },
    dialedBy: () => Promise.reject(new Error('not in the soak')),
    async closeOf(peer, timeoutMs) {
      const info = await target.closeOf(peer.localAddress, timeoutMs ?? 5_000)
      if (!info) return undefined
      return {
        reason: info.reason,
        initiator: info.initiator,
        error: info.code ? Object.assign(new Error(info.code), { code: info.code }) : undefined,
      } as CloseInfo
    },
  }
}

const suiteAttacks: Attack[] = SUITE_CASES.map((name) => {
  const input = hostileCases.find((c) => c.name === name)
  if (!input) throw new Error(`the hostile suite has no case "${name}" any more`)
  return {
    name: input.name,
    expected: input.expected,
    async run(target) {
      const observed = await input.run(suiteContext(target))
      return { ok: observed === input.expected, detail: observed }
    },
  }
})

/** A Client that proved a fresh key, then sends `payload` and expects the typed close. */
const afterProof = (
  name: string,
  expected: string,
  payload: (target: LiveTarget) => Promise<{ frame: Buffer; offered?: string[] }>,
  permissionedOnly = false,
): Attack => ({
  name,
  expected,
  permissionedOnly,
  async run(target) {
    const { frame, offered } = await payload(target)
    const { peer } = await provenClient(target)
    peer.write(frame)
    return { ...(await closeVerdict(target, peer, expected)), offered }
  },
})

/**
 * A chain from genesis with a block in every round up to the current one, by `key` (unlisted),
 * sealed by it: longer than any honest chain can be (the current round's pick is not confirmed
 * yet), so the node has every reason to sync it, were it valid.
 */
function unlistedChain(target: LiveTarget, key: NodeKey): Block[] {
  const { timestamp } = target.genesis.block_header
  const ended = Math.floor((Date.now() - timestamp) / target.roundMs)
  const chain: Block[] = []
  let tip = target.genesis
  for (let i = 1; i <= ended; i++) {
    tip = sealBlock(
      createBlock({
        height: i,
        prevHash: tip.block_header.hash,
        timestamp: timestamp + i * target.roundMs + 1,
        producer: key.publicKey,
        transactions: [{ forged: i }],
      }),
      key,
      target.genesis.block_header.hash,
    )
    chain.push(tip)
  }
  return chain
}

/**
 * A hostile Server the node dials back: our Client proves `key` and claims our listener's
 * address with `claim`ed chain; the node dials it, and our Server proves the same key, then
 * `serve`s what the node asks. Resolves with the node's connection to our Server.
 */
async function dialedBack(
  target: LiveTarget,
  key: NodeKey,
  claim: { height: number; head: string },
): Promise<{ server: RawPeer; client: RawPeer; address: string } | undefined> {
  const { address, accepted } = await RawPeer.listen()
  const { peer: client } = await provenClient(target, { key, address })
  client.send({
    code: 'SHAKEHAND',
    data: statusOf(target, { address, key: key.publicKey, ...claim }),
  })
  const server = await Promise.race([accepted, sleep(10_000).then(() => undefined)])
  if (!server) {
    client.close()
    return undefined
  }
  const opening = (await server.next('SHAKEHAND', 5_000))?.data as
    | Record<string, string>
    | undefined
  if (!opening) return { server, client, address }
  // Step 2 as a Server: prove our key over both opening Statuses.
  const ours = statusOf(target, { address, key: key.publicKey, nonce: createNonce(), ...claim })
  const fields = {
    genesis: target.genesis.block_header.hash,
    clientKey: opening.key!,
    clientNonce: opening.nonce!,
    clientAddress: opening.address!,
    serverKey: key.publicKey,
    serverNonce: ours.nonce as string,
    serverAddress: address,
  }
  server.send({
    code: 'SHAKEHAND',
    data: { ...ours, proof: key.sign(handshakeTranscript('server', fields)) },
  })
  return { server, client, address }
}

/**
 * Answers what the node sends, strictly in the order it sent it (a Client matches each answer
 * to its oldest request: answering a PULL_BLOCK before an earlier beat is UNEXPECTED_ANSWER).
 * Every SHAKEHAND (the step-3 proof, then status beats) gets `status` again.
 */
function serveInOrder(
  server: RawPeer,
  status: () => Record<string, unknown>,
  answer: (m: Message) => unknown,
): void {
  // RawPeer's own listener (registered first) has decoded the chunk into `received` by now.
  const drain = () => {
    for (let m = server.received.shift(); m; m = server.received.shift()) {
      if (m.code === 'SHAKEHAND') server.send({ code: 'SHAKEHAND', data: status() })
      else {
        const reply = answer(m)
        if (reply !== undefined) server.send(reply)
      }
    }
  }
  server.socket.on('data', drain)
  drain()
}

export const soakAttacks: Attack[] = [
  ...suiteAttacks,
  afterProof(
    'poison block: 1e20 numbers re-encode past the body limit (sealed by a listed key)',
    'close MALFORMED_BLOCK',
    async (target) => {
      const count = Math.floor((target.maxBodyBytes * 0.9) / 5)
      const block = await blockOnLiveHead(
        target,
        'poison',
        [{ n: Array.from({ length: count }, () => 1e20) }],
        target.listedKey,
      )
      // JSON.stringify writes 1e20 out in full; the attacker writes it short.
      const wire = JSON.stringify({ code: 'NEW_BLOCK', data: block }).replaceAll(
        '100000000000000000000',
        '1e20',
      )
      return { frame: frameOf(wire), offered: [block.block_header.hash] }
    },
  ),
  afterProof('block whose hash does not recompute', 'close MALFORMED_BLOCK', async (target) => {
    const block = await blockOnLiveHead(target, 'forged', [{ forged: true }], target.listedKey)
    const forged = { ...block, block_header: { ...block.block_header, hash: randomHash() } }
    return {
      frame: jsonFrame({ code: 'NEW_BLOCK', data: forged }),
      offered: [forged.block_header.hash],
    }
  }),
  {
    name: 'SHAKEHAND nesting an ignored member 400,000 deep',
    expected: 'close NESTING_TOO_DEEP',
    async run(target) {
      const depth = 400_000
      const status = JSON.stringify(statusOf(target))
      const body = `{"code":"SHAKEHAND","data":${status.slice(0, -1)},"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`
      const peer = await RawPeer.connect(target.address)
      peer.write(frameOf(body))
      return closeVerdict(target, peer, 'close NESTING_TOO_DEEP')
    },
  },
  {
    name: 'step-3 proof that does not verify',
    expected: 'close BAD_PROOF',
    async run(target) {
      const { peer } = await provenClient(target, {
        proof: () => generateNodeKey().sign('not the transcript'),
      })
      return closeVerdict(target, peer, 'close BAD_PROOF')
    },
  },
  {
    name: 'step-3 proof replayed from an earlier connection',
    expected: 'close BAD_PROOF',
    async run(target) {
      const first = await provenClient(target)
      first.peer.close()
      const { peer } = await provenClient(target, { key: first.key, proof: () => first.proof })
      return closeVerdict(target, peer, 'close BAD_PROOF')
    },
  },
  {
    name: "3 SHAKEHANDs claiming a connected honest node's key and address, unproven",
    expected: 'each close BAD_PROOF, the honest node never refused and still a proven peer',
    async run(target) {
      const before = (await getJson(`${target.api}/status`)).peers as {
        key?: string
        address: string
        proven: boolean
      }[]
      const honest = before.find((p) => p.proven && p.key)
      if (!honest) return { ok: true, detail: 'no proven peer to frame', skipped: true }
      const outcomes: string[] = []
      for (let i = 0; i < 3; i++) {
        const { peer } = await provenClient(target, {
          key: { publicKey: honest.key!, sign: () => '0'.repeat(128) } as unknown as NodeKey,
          address: honest.address,
          proof: () => generateNodeKey().sign('framing'),
        })
        outcomes.push((await closeVerdict(target, peer, 'close BAD_PROOF')).detail)
      }
      // A penalty booked against the claimed key would refuse the real one at its next
      // connection (BANNED) or close it: give that a status beat or two to show.
      await sleep(3_000)
      const refused = target
        .closesSince()
        .filter((c) => c.peer === honest.address && (c.reason === 'BANNED' || c.code === 'BANNED'))
      const after = (await getJson(`${target.api}/status`)).peers as {
        key?: string
        proven: boolean
      }[]
      const still = after.some((p) => p.key === honest.key && p.proven)
      const ok = outcomes.every((o) => o === 'close BAD_PROOF') && refused.length === 0 && still
      return {
        ok,
        detail: `${outcomes.join(', ')}; honest ${honest.key!.slice(0, 8)} refused ${refused.length} times, ${still ? 'still a proven peer' : 'no longer a peer'}`,
      }
    },
  },
  afterProof(
    "an unlisted producer's well-hashed, self-sealed block on the head",
    'close MALFORMED_BLOCK',
    async (target) => {
      const block = await blockOnLiveHead(
        target,
        'unlisted',
        [{ unlisted: true }],
        generateNodeKey(),
      )
      return {
        frame: jsonFrame({ code: 'NEW_BLOCK', data: block }),
        offered: [block.block_header.hash],
      }
    },
    true,
  ),
  {
    name: 'a dialed-back Server serves a longer unlisted chain from genesis, one block per round',
    expected: 'close MALFORMED_BLOCK, no reorg',
    permissionedOnly: true,
    async run(target) {
      const key = generateNodeKey()
      const chain = unlistedChain(target, key)
      const tip = chain.at(-1)!
      const before = await headOf(target)
      const link = await dialedBack(target, key, {
        height: tip.block_header.height,
        head: tip.block_header.hash,
      })
      const offered = [chain[0]!.block_header.hash, tip.block_header.hash]
      if (!link) return { ok: false, detail: 'the node never dialed the claimed address', offered }
      const { server, client } = link
      let served = 0
      const claim = { height: tip.block_header.height, head: tip.block_header.hash }
      serveInOrder(
        server,
        () => statusOf(target, { address: link.address, key: key.publicKey, ...claim }),
        (m) => {
          if (m.code !== 'PULL_BLOCK') return undefined
          served++
          const height = m.data as number
          return {
            code: 'PUSH_BLOCK',
            data: height === 0 ? target.genesis : (chain[height - 1] ?? null),
          }
        },
      )
      const verdict = await closeVerdict(target, server, 'close MALFORMED_BLOCK', 15_000)
      client.close()
      const after = await headOf(target)
      const kept = after.height >= before.height
      return {
        ok: verdict.ok && kept,
        detail: `${verdict.detail} after ${served} PULL_BLOCKs of a ${chain.length}-block chain; head ${before.height} -> ${after.height}`,
        offered,
      }
    },
  },
  {
    name: 'announcement flood: 5,000 random NEW_BLOCK_HASH',
    expected: 'open, throttled to 64 GET_BLOCK a round',
    async run(target) {
      const { peer } = await provenClient(target)
      const started = Date.now()
      await sendMany(peer, 5000, () => ({ code: 'NEW_BLOCK_HASH', data: randomHash() }), 500)
      await sleep(2 * target.roundMs)
      const rounds = Math.ceil((Date.now() - started) / target.roundMs) + 1
      const wanted = peer.received.filter((m) => m.code === 'GET_BLOCK').length
      const open = !peer.isClosed
      peer.close()
      const info = open ? undefined : await target.closeOf(peer.localAddress, 2_000)
      return {
        ok: open && wanted <= 64 * rounds,
        detail: `${open ? 'open' : `closed ${info?.code ?? info?.reason}`}, ${wanted} GET_BLOCK in ${rounds} rounds`,
      }
    },
  },
  {
    name: 'GET_PEERS flood: 500 asks on one connection',
    expected: 'open, at most one non-empty PEERS',
    async run(target) {
      const { peer } = await provenClient(target)
      await sendMany(peer, 500, () => ({ code: 'GET_PEERS', data: null }), 100)
      // The last answer tells us all 500 were read and answered in order.
      peer.send({ code: 'SHAKEHAND', data: statusOf(target, { address: peer.claimed }) })
      await peer.next('SHAKEHAND', 30_000)
      const answers = peer.received.filter((m) => m.code === 'PEERS')
      const full = answers.filter((m) => Array.isArray(m.data) && m.data.length > 0).length
      const open = !peer.isClosed
      peer.close()
      return {
        ok: open && answers.length === 500 && full <= 1,
        detail: `${open ? 'open' : 'closed'}, ${answers.length} PEERS answers, ${full} non-empty`,
      }
    },
  },
  afterProof('PEERS from a Client, unasked', 'close WRONG_ROLE', async () => ({
    frame: jsonFrame({ code: 'PEERS', data: [{ address: '127.0.0.1:1' }] }),
  })),
  {
    name: '2,000 PULL_BLOCKs from a peer that never reads',
    expected: 'the node keeps serving (API answers), the peer paused or closed SLOW_READER',
    async run(target) {
      const { peer } = await provenClient(target)
      peer.stopReading()
      const frame = jsonFrame({ code: 'PULL_BLOCK', data: 0 })
      for (let i = 0; i < 2000; i++) peer.write(frame)
      await sleep(3000)
      const serving = await getJson(`${target.api}/status`).then(
        () => true,
        () => false,
      )
      const info = peer.isClosed ? await target.closeOf(peer.localAddress, 2_000) : undefined
      peer.close()
      const closed = info ? (info.code ?? info.reason) : undefined
      return {
        ok: serving && (closed === undefined || closed === 'SLOW_READER'),
        detail: `${serving ? 'API answers' : 'API silent'}, peer ${closed ? `closed ${closed}` : 'paused'}`,
      }
    },
  },
]
