// The shared identity vectors, played over a real connection: our Client,
// given the vectors' key, nonce and address, must send exactly the vectors'
// step-3 proof to the vectors' step-2 answer, and must refuse every bad proof.
import { readFileSync } from 'node:fs'
import {
  createGenesis,
  type Message,
  nodeKeyFromSeed,
  readNetworkParams,
  type Status,
  sha256Hex,
  silentLogger,
} from '@chronos/codec'
import { tcpTransport } from '@chronos/transport'
import { describe, expect, it } from 'vitest'
import { ClientSession } from '../src/client-session.js'
import { PEER_CLOSE_REASONS as R } from '../src/index.js'
import { DEFAULT_SESSION_LIMITS, type SessionContext } from '../src/session-context.js'

const vectors = JSON.parse(
  readFileSync(new URL('../../codec/test/fixtures/vectors.json', import.meta.url), 'utf8'),
)
const id = vectors.identity as {
  genesis: string
  client: { seed_text: string; key: string; nonce: string; address: string }
  messages: { step: number; message: { code: 'SHAKEHAND'; data: Status } }[]
  bad_proofs: { why: string; role: string; proof: string }[]
}
const [step1, step2, step3] = id.messages.map((m) => m.message)
const network = readNetworkParams(
  createGenesis({ network: 'vectors', roundMs: 1000, timestamp: 1_764_547_200_000 }),
)

function clientContext(): SessionContext {
  return {
    genesisHash: id.genesis,
    network: { ...network, genesisHash: id.genesis, genesisTime: 0 },
    identity: nodeKeyFromSeed(sha256Hex(id.client.seed_text)),
    requireIdentity: false,
    now: Date.now,
    nonce: () => id.client.nonce,
    peerExchange: undefined,
    logger: silentLogger,
    limits: DEFAULT_SESSION_LIMITS,
    localStatus: (opening) => ({
      timestamp: step1!.data.timestamp,
      height: 0,
      address: id.client.address,
      ...(opening ? { genesis: id.genesis } : {}),
    }),
  }
}

/** A Server that answers the opening SHAKEHAND with the vectors' step 2 (its proof replaced by `proof`). */
async function vectorServer(proof: string) {
  const received: Message[] = []
  const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
    server.on('message', (m) => {
      received.push(m)
      if (received.length === 1) server.send({ code: 'SHAKEHAND', data: { ...step2!.data, proof } })
      else
        server.send({
          code: 'SHAKEHAND',
          data: { ...step2!.data, proof: undefined, nonce: undefined },
        })
    })
  })
  return { listener, received }
}

describe('the identity vectors over a connection', () => {
  it('our Client sends the vectors` step 1, and answers their step 2 with exactly their step 3', async () => {
    const server = await vectorServer(step2!.data.proof!)
    const connection = await tcpTransport().dial(server.listener.address)
    const session = new ClientSession(connection, clientContext())
    const { key } = await session.handshake()
    expect(key).toBe(step2!.data.key)
    const [opening, proving] = server.received as Extract<Message, { code: 'SHAKEHAND' }>[]
    expect({ ...opening!.data, timestamp: 0 }).toEqual({ ...step1!.data, timestamp: 0 })
    expect(proving!.data.proof).toBe(step3!.data.proof)
    expect(proving!.data.key).toBe(step3!.data.key)
    connection.close()
    await server.listener.close()
  })

  it.each(id.bad_proofs.map((b) => [b.why, b] as const))(
    'refuses the Server`s bad proof (BAD_PROOF): %s',
    async (_, bad) => {
      const server = await vectorServer(bad.proof)
      const connection = await tcpTransport().dial(server.listener.address)
      const session = new ClientSession(connection, clientContext())
      await expect(session.handshake()).rejects.toMatchObject({ code: R.BAD_PROOF })
      expect(await connection.closed).toMatchObject({ reason: R.BAD_PROOF, initiator: 'local' })
      // Nothing after the refused proof: no step 3 was sent.
      expect(server.received).toHaveLength(1)
      await server.listener.close()
    },
  )
})
