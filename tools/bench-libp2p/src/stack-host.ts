// One stack's 30 nodes in a process of their own (forked by
// libp2p.bench.ts, one host per stack, the same layout for both): a stack's
// nodes share one event loop with each other and with nothing else. With
// both stacks on one thread, a 1 MB block validated by 60 nodes stalled the
// loop for seconds and libp2p's connection monitor aborted its connections
// (see libp2p-options.ts); here a stack is slowed only by its own work.
// Bytes are counted at this process's sockets, times by this process's
// clock; the parent asks for one block at a time over IPC (requests.ts).
import './node20.js'
import { blockOfSize, envelopeBytes } from './blocks.js'
import { type ChronosNet, type Delivery, startChronosNet } from './chronos-net.js'
import { randomRegularGraph } from './graph.js'
import { type Libp2pNet, startLibp2pNet } from './libp2p-net.js'
import { installGcMeter } from './meter.js'
import type { HostReply, HostRequest, HostSetup } from './requests.js'
import { bytesWritten, installSocketCounter } from './socket-bytes.js'

installSocketCounter()
installGcMeter()
// libp2p leaves some of its own promises unawaited (dial and stream deadlines on a starved machine
// reject them); noted and reported, so one lost stream does not lose the run's figures.
const unhandled: string[] = []
process.on('unhandledRejection', (error) => {
  unhandled.push(String((error as Error)?.message ?? error))
})

const setup = JSON.parse(process.argv[2]!) as HostSetup
const graph = randomRegularGraph(setup.nodes, setup.degree, setup.seed)
const send = (reply: HostReply) => process.send!(reply)

type Prepared = Awaited<ReturnType<ChronosNet['prepare']>>
type Running = { stack: 'chronos'; net: ChronosNet } | { stack: 'libp2p'; net: Libp2pNet }
/** The Chronos block built for the next `run` (gossipsub may carry its bytes first). */
let prepared: Prepared | undefined

const started = performance.now()
const running: Running =
  setup.stack === 'chronos'
    ? { stack: 'chronos', net: await startChronosNet(graph, setup.roundMs) }
    : { stack: 'libp2p', net: await startLibp2pNet(graph, setup.meshDeadlineMs) }
send({
  id: 0,
  ok: true,
  value: {
    stack: setup.stack,
    setupMs: performance.now() - started,
    mesh: running.stack === 'libp2p' ? running.net.mesh : undefined,
  },
})

process.on('message', (request: HostRequest) => {
  handle(request).then(
    (value) => send({ id: request.id, ok: true, value }),
    (error: Error) => send({ id: request.id, ok: false, error: error.message }),
  )
})

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'prepare': {
      const net = chronosNet(request.op)
      const build = (parent: Parameters<typeof blockOfSize>[1], timestamp: number, name: string) =>
        blockOfSize(request.bytes, parent, timestamp, name, request.salt)
      prepared = await net.prepare(request.producer, build, request.leadMs, request.windowMs)
      return { envelope: envelopeBytes(prepared.block) }
    }
    case 'run': {
      chronosNet(request.op)
      const planned = prepared
      if (!planned) throw new Error('run before prepare')
      prepared = undefined
      const { block, ...delivery } = await planned.run()
      return {
        ...delivery,
        envelope: envelopeBytes(block),
        // Its round passed while gossipsub ran: the same block one round later (a new timestamp).
        replanned: block.block_header.hash !== planned.block.block_header.hash,
      }
    }
    case 'propagate': {
      const net = libp2pNet(request.op)
      return (await net.propagate(
        request.producer,
        request.envelope,
        request.windowMs,
        request.deadlineMs,
      )) satisfies Delivery
    }
    case 'state':
      return {
        bytes: bytesWritten(running.net.ports),
        peers: running.stack === 'libp2p' ? running.net.meshSizes() : running.net.readyPeers(),
        disconnects: running.stack === 'libp2p' ? running.net.disconnects() : undefined,
        failures: running.stack === 'libp2p' ? running.net.failures : [],
        unhandled,
      }
    case 'stop':
      await running.net.stop()
      setImmediate(() => process.exit(0))
      return {}
  }
}

function chronosNet(op: string): ChronosNet {
  if (running.stack !== 'chronos') throw new Error(`${op} is for the Chronos host`)
  return running.net
}

function libp2pNet(op: string): Libp2pNet {
  if (running.stack !== 'libp2p') throw new Error(`${op} is for the libp2p host`)
  return running.net
}
