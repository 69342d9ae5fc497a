// CI runs a small memory benchmark (in a child process: it needs --expose-gc)
// so that the full one (`pnpm bench`) cannot rot.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const module = fileURLToPath(new URL('../bench/memory.ts', import.meta.url))

describe('memory benchmark (smoke)', () => {
  it('measures heap per node at two heights while three nodes gossip', async () => {
    const script = `import(${JSON.stringify(module)}).then((m) => m.runMemory({ checkpoints: [30, 90], speed: 10, roundMs: 100 })).then((r) => console.log(JSON.stringify(r)))`
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@chronos/source', '-e', script],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      },
    )
    const results = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      height: number
      heapPerNode: number
    }[]
    expect(results.map((r) => r.height)).toEqual([30, 90])
    for (const r of results) expect(r.heapPerNode).toBeGreaterThan(0)
  }, 120_000)
})
