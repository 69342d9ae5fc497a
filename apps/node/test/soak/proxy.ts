// A TCP proxy in front of one node, through which every other node reaches
// it: the soak partitions the network by refusing and cutting connections
// here. A connection is attributed to the node that opened it by its
// opening SHAKEHAND, read with the codec's decoder before a single byte is
// forwarded: by the `key` it carries (protocol 1.1, step 1 of the identity
// handshake; the proof of step 3 follows on the piped connection), else by
// its `address` (each node advertises its own proxy).
import { connect, createServer, type Server, type Socket } from 'node:net'
import { type Message, MessageDecoder } from '@chronos/codec'

export interface ProxyRules {
  /** Which node claims `key` or advertises `address` (undefined: not one of ours, e.g. a hostile peer). */
  identify(address: string, key: string | undefined): number | undefined
  /** True while traffic from node `from` to node `to` must not pass. */
  blocked(from: number, to: number): boolean
}

interface Pipe {
  from: number | undefined
  client: Socket
  upstream: Socket | undefined
}

export class NodeProxy {
  private server: Server | undefined
  private readonly pipes = new Set<Pipe>()
  /** Connections refused or cut for a partition, for the soak's report. */
  refused = 0

  constructor(
    readonly index: number,
    private readonly target: () => { host: string; port: number },
    private readonly rules: ProxyRules,
  ) {}

  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return (server.address() as { port: number }).port
  }

  /** Cuts every connection that the rules now block (a partition begins). */
  cut(): void {
    for (const pipe of this.pipes)
      if (pipe.from !== undefined && this.rules.blocked(pipe.from, this.index)) {
        this.refused++
        this.end(pipe)
      }
  }

  async close(): Promise<void> {
    for (const pipe of this.pipes) this.end(pipe)
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    )
  }

  private end(pipe: Pipe): void {
    pipe.client.destroy()
    pipe.upstream?.destroy()
    this.pipes.delete(pipe)
  }

  private accept(client: Socket): void {
    const pipe: Pipe = { from: undefined, client, upstream: undefined }
    this.pipes.add(pipe)
    client.on('error', () => {})
    client.on('close', () => this.end(pipe))
    const decoder = new MessageDecoder()
    const held: Buffer[] = []
    let first: Message | undefined
    const onData = (chunk: Buffer) => {
      held.push(chunk)
      try {
        decoder.push(chunk, (m) => (first ??= m))
      } catch {
        // Not our protocol: let the node itself judge it.
        first ??= { code: 'PULL_BLOCK', data: 0 }
      }
      if (!first) return
      client.off('data', onData)
      client.pause()
      const opening = first.code === 'SHAKEHAND' ? first.data : undefined
      pipe.from =
        opening === undefined ? undefined : this.rules.identify(opening.address, opening.key)
      if (pipe.from !== undefined && this.rules.blocked(pipe.from, this.index)) {
        this.refused++
        this.end(pipe)
        return
      }
      const upstream = connect(this.target())
      pipe.upstream = upstream
      upstream.on('error', () => this.end(pipe))
      upstream.on('close', () => this.end(pipe))
      upstream.once('connect', () => {
        for (const bytes of held) upstream.write(bytes)
        held.length = 0
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    client.on('data', onData)
  }
}
