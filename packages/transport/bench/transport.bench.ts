// `pnpm bench` for the TCP transport: N messages through a Connection
// (encode, frame, decode, validate, deliver) against bare node:net sockets
// piping the same frame bytes on loopback, in the same run.
import { fileURLToPath } from 'node:url'
import {
  BenchWorker,
  type Comparison,
  compareInterleaved,
  type InterleavedSide,
  printTable,
  writeResults,
} from '@chronos/bench-kit'

const cases: [string, number, number][] = [
  ['tcp_vs_raw_socket_1kib', 1024, 20_000],
  ['tcp_vs_raw_socket_1mib', 1024 * 1024, 200],
]
// Each round sends `count` messages per side in STEPS interleaved steps (compareInterleaved), on
// connections opened for the round (set-up not timed). Each side runs both its ends in a worker
// of its own and is billed that process's CPU time: the kernel's loopback work is its system
// time, and its garbage is collected on its own clock.
const STEPS = 20
const script = fileURLToPath(new URL('transport-worker.ts', import.meta.url))
const connectionWorker = new BenchWorker(script)
const rawWorker = new BenchWorker(script)
const side =
  (worker: BenchWorker, role: 'connection' | 'raw', size: number, perStep: number) =>
  async (): Promise<InterleavedSide> => {
    await worker.call('open', role, size, perStep)
    return {
      step: () => worker.call('step'),
      close: () => worker.call('close'),
      cpuNs: () => worker.cpuNs(),
    }
  }
const rows: Comparison[] = []
for (const [name, size, count] of cases) {
  rows.push(
    await compareInterleaved(
      name,
      side(connectionWorker, 'connection', size, count / STEPS),
      'bare node:net, same bytes',
      side(rawWorker, 'raw', size, count / STEPS),
      { steps: STEPS, rounds: 15, goal: 1.5 },
    ),
  )
}
await connectionWorker.close()
await rawWorker.close()
printTable('transport: TCP Connection vs bare sockets on loopback', rows)
const [small, large] = rows
const summary = {
  tcp_vs_raw_socket: {
    '1KiB': Number(small!.ratio.toFixed(3)),
    '1MiB': Number(large!.ratio.toFixed(3)),
  },
}
console.log(
  `\nwrote ${writeResults('transport', rows, { ...summary, messages_1kib: 20_000, messages_1mib: 200 })}`,
)
