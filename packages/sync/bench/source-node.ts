// A serving node for the sync benchmark, in its own process as a real peer
// would be: builds the chain, stores it, serves it from N listeners. A bench
// worker (`serveBenchWorker`): `addresses` gives the listeners' addresses,
// every reply carries this process's CPU time (so the benchmark can bill the
// serving side's work to sync), and `stop` closes everything.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveBenchWorker } from '@chronos/bench-kit'
import { openChainStore } from '@chronos/chain-store'
import { PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { buildChain, genesis } from '../test/helpers.js'

const [blocks, listeners] = process.argv.slice(2).map(Number) as [number, number]
const chain = buildChain(genesis, blocks, { tag: 'bench', transactions: 20 })
const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-source-'))
const store = await openChainStore({ genesis, location: dir })
await store.reorg(0, chain)
const sources: PeerManager[] = []
for (let i = 0; i < listeners; i++) {
  const peers = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    chain: () => ({
      height: store.height(),
      head: store.head().block_header.hash,
      genesis: genesis.block_header.hash,
    }),
    handlers: {
      newBlock() {},
      newBlockHash: () => 'known',
      pull: async (h) => (await store.getByHeight(h)) ?? null,
    },
  })
  await peers.start()
  sources.push(peers)
}

serveBenchWorker({
  addresses: () => sources.map((s) => s.address),
  async stop() {
    for (const peers of sources) await peers.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  },
})
