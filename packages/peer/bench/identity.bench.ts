// What identity costs (issue 11): a connection with the Ed25519 handshake
// against one with the plain SHAKEHAND, and verifying a sealed 1,000-
// transaction block in a permissioned network against the same block in an
// open one. Ratios against the baseline measured in the same run.
import { compare, compareAsync, printTable, writeResults } from '@chronos/bench-kit'
import {
  createBlock,
  createGenesis,
  generateNodeKey,
  type NodeKey,
  readNetworkParams,
  sealBlock,
  verifyBlock,
} from '@chronos/codec'
import { tcpTransport } from '@chronos/transport'
import { ClientSession } from '../src/client-session.js'
import { DEFAULT_SESSION_LIMITS, type SessionContext } from '../src/index.js'
import { ServerSession } from '../src/server-session.js'

const serverKey = generateNodeKey()
const clientKey = generateNodeKey()
const genesis = createGenesis({ network: 'bench', roundMs: 1000, timestamp: Date.now() - 10_000 })
const network = readNetworkParams(genesis)

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
async function handshakes(address: string, identity: NodeKey | undefined, n = 20) {
  for (let i = 0; i < n; i++) {
    const connection = await transport.dial(address)
    const session = new ClientSession(connection, context(identity, '127.0.0.1:1'))
    const { key } = await session.handshake()
    if (identity && key !== serverKey.publicKey) throw new Error('the Server proved no key')
    connection.close()
    await connection.closed
  }
}

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
const fields = {
  height: 1,
  timestamp: genesis.block_header.timestamp + 1000,
  producer: serverKey.publicKey,
  transactions,
}
const sealed = sealBlock(
  createBlock({ ...fields, prevHash: poaGenesis.block_header.hash }),
  serverKey,
  poa.genesisHash,
)
const open = createBlock({ ...fields, prevHash: genesis.block_header.hash })
if (!verifyBlock(sealed, { network: poa }).ok || !verifyBlock(open, { network }).ok)
  throw new Error('bench blocks are not well-formed')

await handshakes(withIdentity.address, clientKey, 5)
const rows = [
  await compareAsync(
    'handshake_identity_vs_plain',
    () => handshakes(withIdentity.address, clientKey),
    'plain SHAKEHAND',
    () => handshakes(plain.address, undefined),
    { rounds: 15, goal: 1.5 },
  ),
  compare(
    'verify_sealed_vs_unsealed',
    () => verifyBlock(sealed, { network: poa }),
    'the same block, open network',
    () => verifyBlock(open, { network }),
    { goal: 1.05 },
  ),
]
printTable(
  'identity: 20 TCP connections with and without the Ed25519 handshake; a 1,000-tx block',
  rows,
)
console.log(`\nwrote ${writeResults('identity', rows, { transactions: transactions.length })}`)
await withIdentity.close()
await plain.close()
