// What identity costs (issue 11): a connection with the Ed25519 handshake
// against one with the plain SHAKEHAND, and verifying a sealed 1,000-
// transaction block in a permissioned network against the same block in an
// open one. Ratios against the baseline measured in the same run, and for
// each the parts the spec makes the subject pay, so the floor (what the
// ratio would be if nothing but those parts were added) is a figure too.
//
// A handshake round times four batches of CONNECTIONS connections each, in
// a row, to a Server on loopback TCP in this process: every connection is
// dialled, handshaken (the Client's handshake() resolved: with identity,
// once step 3 was answered, since until then the Client may send nothing
// else) and closed. The batches: plain; identity; "twice", the plain
// handshake plus one more SHAKEHAND answered before the close (identity's
// four messages without their proofs); and "floor", twice with the
// handshake's Ed25519 work done between the two exchanges (the Server signs
// and keeps a transcript, the Client verifies and signs, the Server
// verifies: 2 signs, 2 verifies, 4 JCS transcripts, 2 nonces). Floor is what
// identity would cost if it paid nothing beyond what section 11 makes it do.
// The batches rotate which runs first, round by round; each is timed by the
// wall clock and by this process's CPU time (both ends run here, so CPU is
// the whole cost and wall adds the loopback waits). The same crypto timed
// bare, in a tight loop, closes the round.
import {
  compare,
  fromRatios,
  machineLoad,
  median,
  printTable,
  writeResults,
} from '@chronos/bench-kit'
import {
  createBlock,
  createGenesis,
  createNonce,
  generateNodeKey,
  handshakeTranscript,
  type NodeKey,
  readNetworkParams,
  sealBlock,
  verifyBlock,
  verifySeal,
  verifySignature,
} from '@chronos/codec'
import { tcpTransport } from '@chronos/transport'
import { ClientSession } from '../src/client-session.js'
import { DEFAULT_SESSION_LIMITS, type SessionContext } from '../src/index.js'
import { ServerSession } from '../src/server-session.js'

const CONNECTIONS = 40
const ROUNDS = 31
const loadAtStart = machineLoad()

const serverKey = generateNodeKey()
const clientKey = generateNodeKey()
const genesis = createGenesis({ network: 'bench', roundMs: 1000, timestamp: Date.now() - 10_000 })
const network = readNetworkParams(genesis)
const CLIENT_ADDRESS = '127.0.0.1:1'

function context(identity: NodeKey | undefined, address: string): SessionContext {
  return {
    genesisHash: genesis.block_header.hash,
    network,
    identity,
    requireIdentity: false,
    now: Date.now,
    peerExchange: undefined,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    limits: DEFAULT_SESSION_LIMITS,
    localStatus: (opening) => ({
      timestamp: Date.now(),
      height: 0,
      address,
      head: genesis.block_header.hash,
      ...(opening ? { genesis: genesis.block_header.hash } : {}),
    }),
  }
}

const transport = tcpTransport()
const handlers = { pull: () => null, newBlock() {}, newBlockHash: () => 'known' as const }
async function listen(identity: NodeKey | undefined) {
  const listener = await transport.listen('127.0.0.1:0', (connection) => {
    new ServerSession(connection, context(identity, listener.address), handlers)
  })
  return listener
}
const withIdentity = await listen(serverKey)
const plain = await listen(undefined)

/** `n` connections in a row: connect, handshake, close. */
async function handshakes(address: string, identity: NodeKey | undefined, n = CONNECTIONS) {
  for (let i = 0; i < n; i++) {
    const connection = await transport.dial(address)
    const session = new ClientSession(connection, context(identity, CLIENT_ADDRESS))
    const { key } = await session.handshake()
    if (identity && key !== serverKey.publicKey) throw new Error('the Server proved no key')
    connection.close()
    await connection.closed
  }
}

/** The transcript fields of one handshake between the bench's two keys, with fresh nonces. */
function transcriptFields() {
  return {
    genesis: genesis.block_header.hash,
    clientKey: clientKey.publicKey,
    clientNonce: createNonce(),
    clientAddress: CLIENT_ADDRESS,
    serverKey: serverKey.publicKey,
    serverNonce: createNonce(),
    serverAddress: withIdentity.address,
  }
}

/** The Ed25519 work of one identity handshake, both sides, without the connection. */
function handshakeCrypto(): void {
  const fields = transcriptFields()
  // Server, step 2: its proof, and the transcript the Client's proof must match.
  const serverProof = serverKey.sign(handshakeTranscript('server', fields))
  const clientTranscript = handshakeTranscript('client', fields)
  // Client, step 3: verify the Server, prove itself.
  if (!verifySignature(serverKey.publicKey, handshakeTranscript('server', fields), serverProof))
    throw new Error('server proof')
  const clientProof = clientKey.sign(handshakeTranscript('client', fields))
  // Server: verify the Client.
  if (!verifySignature(clientKey.publicKey, clientTranscript, clientProof))
    throw new Error('client proof')
}

interface Timed {
  wallNs: number
  cpuNs: number
}
const cpuNow = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}
async function timed(run: () => Promise<unknown> | unknown): Promise<Timed> {
  const wall = process.hrtime.bigint()
  const cpu = cpuNow()
  await run()
  return { cpuNs: cpuNow() - cpu, wallNs: Number(process.hrtime.bigint() - wall) }
}

/**
 * The plain handshake plus one more SHAKEHAND answered before the close:
 * the identity handshake's messages (two exchanges on a fresh connection)
 * without its proofs, so what identity adds beyond this is its crypto.
 */
async function twoExchanges(n = CONNECTIONS, withCrypto = false) {
  for (let i = 0; i < n; i++) {
    const connection = await transport.dial(plain.address)
    const session = new ClientSession(connection, context(undefined, CLIENT_ADDRESS))
    await session.handshake()
    if (withCrypto) handshakeCrypto()
    await session.shakehand()
    connection.close()
    await connection.closed
  }
}

// Warm both paths alike (JIT, the public-key cache, socket setup).
for (let i = 0; i < 3; i++) {
  await handshakes(withIdentity.address, clientKey, 10)
  await handshakes(plain.address, undefined, 10)
  await twoExchanges(10)
  await twoExchanges(10, true)
  for (let j = 0; j < 10; j++) handshakeCrypto()
}

interface HandshakeRound {
  identity: Timed
  plain: Timed
  crypto: Timed
  twice: Timed
  /** `twice` with the handshake's crypto done between the two exchanges, in the same caches. */
  floor: Timed
}
const rounds: HandshakeRound[] = []
type Batch = Exclude<keyof HandshakeRound, 'crypto'>
const batches: Record<Batch, () => Promise<unknown>> = {
  plain: () => handshakes(plain.address, undefined),
  identity: () => handshakes(withIdentity.address, clientKey),
  twice: () => twoExchanges(),
  floor: () => twoExchanges(CONNECTIONS, true),
}
const order = Object.keys(batches) as Batch[]
for (let r = 0; r < ROUNDS; r++) {
  // Each round starts with the next batch: every one runs first, second, ... alike often.
  const round: Partial<HandshakeRound> = {}
  for (let i = 0; i < order.length; i++) {
    const batch = order[(r + i) % order.length]!
    round[batch] = await timed(batches[batch])
  }
  round.crypto = await timed(() => {
    for (let i = 0; i < CONNECTIONS; i++) handshakeCrypto()
  })
  rounds.push(round as HandshakeRound)
}

const clockOf = (clock: keyof Timed) => (t: Timed) => t[clock]
function handshakeRows(clock: keyof Timed, suffix: string) {
  const of = clockOf(clock)
  const label = clock === 'cpuNs' ? 'cpu' : 'wall'
  const measured = fromRatios(
    `handshake_identity_vs_plain${suffix}`,
    `plain SHAKEHAND (${label})`,
    rounds.map((r) => ({
      subject: of(r.identity) / CONNECTIONS,
      baseline: of(r.plain) / CONNECTIONS,
    })),
    1.5,
  )
  const floor = fromRatios(
    `handshake_floor_vs_plain${suffix}`,
    `plain SHAKEHAND (${label})`,
    rounds.map((r) => ({
      subject: of(r.floor) / CONNECTIONS,
      baseline: of(r.plain) / CONNECTIONS,
    })),
  )
  return [
    { ...measured, clock: label as 'cpu' | 'wall' },
    { ...floor, clock: label as 'cpu' | 'wall' },
  ]
}

/** Per connection, µs: the medians over rounds of each part and of what is left. */
function handshakeCost(clock: keyof Timed) {
  const of = clockOf(clock)
  const us = (values: number[]) => Number((median(values) / CONNECTIONS / 1000).toFixed(1))
  return {
    plain_us: us(rounds.map((r) => of(r.plain))),
    identity_us: us(rounds.map((r) => of(r.identity))),
    ed25519_and_transcripts_us: us(rounds.map((r) => of(r.crypto))),
    plain_two_exchanges_us: us(rounds.map((r) => of(r.twice))),
    two_exchanges_and_crypto_us: us(rounds.map((r) => of(r.floor))),
    // Crypto between network work costs more than in a tight loop (cold caches).
    crypto_in_situ_us: us(rounds.map((r) => of(r.floor) - of(r.twice))),
    // What the identity handshake costs beyond its two exchanges and its crypto.
    beyond_floor_us: us(rounds.map((r) => of(r.identity) - of(r.floor))),
  }
}

// Ed25519 alone, for the table under the figures.
const fields = transcriptFields()
const transcript = handshakeTranscript('server', fields)
const proof = serverKey.sign(transcript)

// Verifying: the same 1,000 transactions, sealed on a permissioned network and bare on an open one.
const transactions = Array.from({ length: 1000 }, (_, i) => ({
  from: `acct-${i % 97}`,
  to: `acct-${(i * 7) % 89}`,
  amount: i,
  nonce: i,
  memo: i % 10 === 0 ? 'naïve café' : 'transfer',
}))
const poaGenesis = createGenesis({
  network: 'bench-poa',
  roundMs: 1000,
  timestamp: genesis.block_header.timestamp,
  producers: [serverKey.publicKey],
})
const poa = readNetworkParams(poaGenesis)
const blockFields = {
  height: 1,
  timestamp: genesis.block_header.timestamp + 1000,
  producer: serverKey.publicKey,
  transactions,
}
const sealed = sealBlock(
  createBlock({ ...blockFields, prevHash: poaGenesis.block_header.hash }),
  serverKey,
  poa.genesisHash,
)
const open = createBlock({ ...blockFields, prevHash: genesis.block_header.hash })
if (!verifyBlock(sealed, { network: poa }).ok || !verifyBlock(open, { network }).ok)
  throw new Error('bench blocks are not well-formed')

const verifySealed = compare(
  'verify_sealed_vs_unsealed',
  () => verifyBlock(sealed, { network: poa }),
  'the same block, open network',
  () => verifyBlock(open, { network }),
  // A ~5 % difference under other engineers' load: more rounds than the kit's 31.
  { goal: 1.05, rounds: 61 },
)
// The part section 12 adds: one Ed25519 verification of the seal message
// (its JCS included), bare in a tight loop, and then where it runs, after a
// block's hashing (the floor: an open block's verification plus the seal check).
const sealShare = compare(
  'seal_check_vs_unsealed',
  () => verifySeal(sealed, poa.genesisHash),
  'verifyBlock, open network',
  () => verifyBlock(open, { network }),
  { rounds: 61 },
)
const sealFloor = compare(
  'verify_floor_sealed_vs_unsealed',
  () => {
    verifyBlock(open, { network })
    verifySeal(sealed, poa.genesisHash)
  },
  'verifyBlock, open network',
  () => verifyBlock(open, { network }),
  { rounds: 61 },
)

/** Median CPU time of one call, ns, over 7 batches of `batch`. */
function perCall(fn: () => unknown, batch = 200): number {
  const times: number[] = []
  for (let b = 0; b < 7; b++) {
    const start = cpuNow()
    for (let i = 0; i < batch; i++) fn()
    times.push((cpuNow() - start) / batch)
  }
  return median(times)
}
const signNs = perCall(() => serverKey.sign(transcript))
const verifyNs = perCall(() => verifySignature(serverKey.publicKey, transcript, proof))

const rows = [
  ...handshakeRows('wallNs', ''),
  ...handshakeRows('cpuNs', '_cpu'),
  verifySealed,
  sealFloor,
  sealShare,
]
printTable(
  `identity: ${CONNECTIONS} TCP connections with and without the Ed25519 handshake (${ROUNDS} rounds); a 1,000-tx block`,
  rows,
)
const cost = {
  handshake_wall: handshakeCost('wallNs'),
  handshake_cpu: handshakeCost('cpuNs'),
  ed25519_sign_us: Number((signNs / 1000).toFixed(1)),
  ed25519_verify_us: Number((verifyNs / 1000).toFixed(1)),
  verify_open_block_us: Number((verifySealed.baselineNs / 1000).toFixed(1)),
  verify_sealed_block_us: Number((verifySealed.subjectNs / 1000).toFixed(1)),
  seal_check_us: Number((sealShare.subjectNs / 1000).toFixed(1)),
  // The seal check after a block's hashing, from the floor comparison's medians.
  seal_check_in_situ_us: Number(((sealFloor.subjectNs - sealFloor.baselineNs) / 1000).toFixed(1)),
}
console.log('\nper connection / per block, µs (medians over rounds):')
console.log(JSON.stringify(cost, null, 2))
console.log(
  `\nwrote ${writeResults('identity', rows, {
    transactions: transactions.length,
    connections_per_round: CONNECTIONS,
    cost,
    load_at_start: loadAtStart,
  })}`,
)
await withIdentity.close()
await plain.close()
