import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchWorker, processCpuNs } from '@chronos/bench-kit'
import { openChainStore } from '@chronos/chain-store'
import { PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { SyncEngine } from '../src/index.js'
import { chainStatus, genesis, noGossip } from '../test/helpers.js'

const BLOCKS = 10000
const source = new BenchWorker(
  fileURLToPath(new URL('source-node.ts', import.meta.url)),
  [String(BLOCKS), '4'],
  {
    execArgv: [
      '--import',
      'tsx',
      '--conditions=@chronos/source',
      ...(process.env.PROF_SRC ? ['--cpu-prof', '--cpu-prof-dir=/tmp/iob/profsrc'] : []),
    ],
  },
)
const addrs = (await source.call<string[]>('addresses')).value
for (let r = 0; r < 3; r++) {
  const dir = await mkdtemp(join(tmpdir(), 'zz-'))
  const store = await openChainStore({ genesis, location: dir })
  const s0 = await source.cpuNs()
  const c0 = processCpuNs()
  let sync!: SyncEngine
  let batches = 0
  const orig = store.appendMany.bind(store)
  store.appendMany = (b) => {
    batches++
    return orig(b)
  }
  const peers = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    peers: addrs.slice(0, 1),
    chain: chainStatus(store),
    handlers: { ...noGossip, pull: (h) => sync.serve(h) },
  })
  sync = new SyncEngine({ store, peers, window: 64 })
  const done = new Promise<void>((res) => {
    const off = store.onHead(({ head }) => {
      if (head.block_header.height >= BLOCKS) {
        off()
        res()
      }
    })
  })
  await peers.start()
  await done
  sync.stop()
  await peers.stop()
  await store.close()
  console.log(
    'batches',
    batches,
    'sync cpu',
    ((processCpuNs() - c0) / 1e6).toFixed(0),
    'source cpu',
    (((await source.cpuNs()) - s0) / 1e6).toFixed(0),
  )
  await rm(dir, { recursive: true, force: true })
}
await source.call('stop')
await source.close()
