// Heap per node while gossip runs for many rounds: 3 nodes over TCP with
// their chains in LevelDB (off the JS heap), two of them producing. Rounds
// run on a virtual clock `speed` times faster than real time, so 10,000
// rounds of 100 ms take minutes, not hours; every engine (round timer,
// timeliness, production) reads the same clock.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import { createGenesis } from '@chronos/codec'
import { pino } from 'pino'
import { ChronosNode, resolveConfig } from '../src/index.js'

export interface MemoryParams {
  /** Heights at which the heap is measured, ascending. */
  checkpoints: number[]
  /** Virtual ms per real ms. */
  speed: number
  roundMs: number
  /** When set, a heap snapshot is written here at each checkpoint (to attribute growth). */
  snapshotDir?: string
}

export async function runMemory(
  p: MemoryParams,
): Promise<{ height: number; heapPerNode: number }[]> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  const realStart = Date.now()
  const now = () => realStart + (Date.now() - realStart) * p.speed
  const genesis = createGenesis({ network: 'memory', roundMs: p.roundMs, timestamp: realStart })
  const dir = mkdtempSync(join(tmpdir(), 'chronos-memory-'))
  const nodes: ChronosNode[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const config = resolveConfig(
        {},
        {
          data: join(dir, `n${i}`),
          genesis: '(memory)',
          listen: '127.0.0.1:0',
          peers: nodes.map((n) => n.address),
          produce: i < 2,
          txRate: (20 * 1000) / p.roundMs,
        },
      )
      const node = await ChronosNode.open({
        config,
        genesis,
        logger: pino({ level: 'silent' }),
        now,
      })
      await node.start()
      nodes.push(node)
    }
    const results: { height: number; heapPerNode: number }[] = []
    for (const height of p.checkpoints) {
      await new Promise<void>((resolve) => {
        if (nodes[2]!.store.height() >= height) return resolve()
        const off = nodes[2]!.store.onHead(({ head }) => {
          if (head.block_header.height < height) return
          off()
          resolve()
        })
      })
      gc()
      if (p.snapshotDir) writeHeapSnapshot(join(p.snapshotDir, `heap-${height}.heapsnapshot`))
      results.push({ height, heapPerNode: process.memoryUsage().heapUsed / nodes.length })
    }
    return results
  } finally {
    for (const node of nodes) await node.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
