// The sync benchmark's baseline in a process of its own: appending the same
// chain to a fresh chain-store, block by block. Its own process so that the
// syncing node's process (billed to sync) does nothing else while it runs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveBenchWorker } from '@chronos/bench-kit'
import { openChainStore } from '@chronos/chain-store'
import { buildChain, genesis } from '../test/helpers.js'

const chain = buildChain(genesis, Number(process.argv[2]), { tag: 'bench', transactions: 20 })

serveBenchWorker({
  async appendAll() {
    const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-sync-'))
    const store = await openChainStore({ genesis, location: dir })
    try {
      for (const block of chain) await store.append(block)
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  },
})
