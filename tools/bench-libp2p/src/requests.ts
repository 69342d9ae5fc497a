// The parent's side of a stack host (stack-host.ts): fork it, await its
// nets being up, then one request at a time over IPC. `advanced`
// serialization carries block bytes as Uint8Array, not as JSON.
import { fork } from 'node:child_process'
import type { Delivery } from './chronos-net.js'
import type { MeshState } from './libp2p-net.js'

export type Stack = 'chronos' | 'libp2p'

export interface HostSetup {
  stack: Stack
  nodes: number
  degree: number
  seed: number
  roundMs: number
  meshDeadlineMs: number
}

export type HostCall =
  | {
      op: 'prepare'
      producer: number
      bytes: number
      salt: number
      /** Inject no sooner than this many ms from now (see ChronosNet.prepare). */
      leadMs: number
      /** The bytes window, ms from the injection. */
      windowMs: number
    }
  | { op: 'run' }
  | {
      op: 'propagate'
      producer: number
      envelope: Uint8Array
      windowMs: number
      deadlineMs: number
    }
  | { op: 'state' }
  | { op: 'stop' }

export type HostRequest = { id: number } & HostCall

export type HostReply = { id: number } & (
  | { ok: true; value: unknown }
  | { ok: false; error: string }
)

export interface HostState {
  /** Bytes written by the stack's sockets since it started. */
  bytes: number
  /** Mesh peers (gossipsub) or ready peers (Chronos) per node. */
  peers: number[]
  disconnects?: number
  failures: string[]
  unhandled: string[]
}

export interface Host {
  stack: Stack
  setupMs: number
  mesh?: MeshState
  prepare(call: Omit<Extract<HostCall, { op: 'prepare' }>, 'op'>): Promise<{ envelope: Uint8Array }>
  run(): Promise<Delivery & { envelope: Uint8Array; replanned: boolean }>
  propagate(
    producer: number,
    envelope: Uint8Array,
    windowMs: number,
    deadlineMs: number,
  ): Promise<Delivery>
  state(): Promise<HostState>
  stop(): Promise<void>
}

export async function startHost(setup: HostSetup): Promise<Host> {
  // The same loader flags as this process (tsx, source conditions), so the host runs the sources;
  // --expose-gc for the collection before each timed span (meter.ts); --single-threaded-gc so
  // every collection runs on the event-loop thread, where its time and its wait for a core are
  // measured (with helper threads, the loop waited on them, unmeasured, when others held the cores).
  const child = fork(new URL('./stack-host.ts', import.meta.url), [JSON.stringify(setup)], {
    execArgv: [...process.execArgv, '--expose-gc', '--single-threaded-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let exited: Error | undefined
  child.on('message', (reply: HostReply) => {
    const pending = waiting.get(reply.id)
    if (!pending) return
    waiting.delete(reply.id)
    reply.ok ? pending.resolve(reply.value) : pending.reject(new Error(reply.error))
  })
  child.on('exit', (code, signal) => {
    exited = new Error(`${setup.stack} host exited (code ${code}, signal ${signal})`)
    for (const pending of waiting.values()) pending.reject(exited)
    waiting.clear()
  })
  let next = 1
  const request = <T>(body: HostCall): Promise<T> => {
    if (exited) return Promise.reject(exited)
    const id = next++
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      child.send({ ...body, id } satisfies HostRequest)
    })
  }
  // Reply 0 is the host's own: its nets are up (and, for gossipsub, how the mesh stood).
  const ready = await new Promise<{ setupMs: number; mesh?: MeshState }>((resolve, reject) => {
    waiting.set(0, { resolve: resolve as (value: unknown) => void, reject })
  })
  return {
    stack: setup.stack,
    setupMs: ready.setupMs,
    mesh: ready.mesh,
    prepare: (call) => request({ op: 'prepare', ...call }),
    run: () => request({ op: 'run' }),
    propagate: (producer, envelope, windowMs, deadlineMs) =>
      request({ op: 'propagate', producer, envelope, windowMs, deadlineMs }),
    state: () => request({ op: 'state' }),
    async stop() {
      const gone = new Promise((resolve) => child.once('exit', resolve))
      if (!exited) await request({ op: 'stop' }).catch(() => {})
      if (!exited) await gone
    },
  }
}
