import { type Logger, silentLogger } from '@chronos/codec'
import { Level } from 'level'
import {
  type BlockView,
  blockViewSchema,
  type Delta,
  type NetworkEvent,
  networkEventSchema,
} from './protocol.js'
import type { NetworkView } from './view.js'

export interface HistoryOptions {
  /** Blocks kept on disk (oldest first sighting dropped). Default 200. */
  maxBlocks?: number
  /** Events kept on disk. Default 100. */
  maxEvents?: number
  logger?: Logger
}

const BLOCK = 'b!'
const EVENT = 'e!'
/** Event keys sort by their number: fixed width. */
const eventKey = (n: number) => `${EVENT}${n.toString().padStart(16, '0')}`

/**
 * What the page needs to look the same after a bridge restart (recent
 * blocks with their spread, and the network's events), in the bridge's own
 * LevelDB, bounded in entries. Nodes are not kept: they come back live.
 * Entries are validated on the way back in; one that does not parse is
 * dropped, not trusted.
 */
export class HistoryStore {
  private readonly db: Level<string, string>
  private readonly maxBlocks: number
  private readonly maxEvents: number
  private readonly logger: Logger
  /** hash -> first sighting, for the oldest-first bound. */
  private readonly blocks = new Map<string, number>()
  private readonly eventKeys: string[] = []
  private nextEvent = 0
  private writing: Promise<void> = Promise.resolve()
  private detach: (() => void) | undefined

  private constructor(dir: string, options: HistoryOptions) {
    this.db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    this.maxBlocks = options.maxBlocks ?? 200
    this.maxEvents = options.maxEvents ?? 100
    this.logger = options.logger ?? silentLogger
  }

  static async open(dir: string, options: HistoryOptions = {}): Promise<HistoryStore> {
    const store = new HistoryStore(dir, options)
    await store.db.open()
    return store
  }

  /** Reads what was kept, oldest first. */
  async load(): Promise<{ blocks: BlockView[]; events: NetworkEvent[] }> {
    const blocks: BlockView[] = []
    const events: NetworkEvent[] = []
    let invalid = 0
    for await (const [key, value] of this.db.iterator()) {
      const schema = key.startsWith(BLOCK) ? blockViewSchema : networkEventSchema
      let parsed: ReturnType<typeof schema.safeParse>
      try {
        parsed = schema.safeParse(JSON.parse(value))
      } catch {
        parsed = { success: false } as never
      }
      if (!parsed.success) {
        invalid++
        await this.db.del(key)
        continue
      }
      if (key.startsWith(BLOCK)) {
        const block = parsed.data as BlockView
        blocks.push(block)
        this.blocks.set(block.hash, block.firstSeen)
      } else {
        events.push(parsed.data as NetworkEvent)
        this.eventKeys.push(key)
        this.nextEvent = Math.max(this.nextEvent, Number(key.slice(EVENT.length)) + 1)
      }
    }
    if (invalid) this.logger.warn({ invalid }, 'history entries dropped: not valid')
    blocks.sort((a, b) => a.firstSeen - b.firstSeen)
    return { blocks, events }
  }

  /** Restores the view from disk, then keeps every delta it emits. */
  async attach(view: NetworkView): Promise<void> {
    view.restore(await this.load())
    const onDelta = (delta: Delta) => {
      this.writing = this.writing
        .then(() => this.save(delta))
        .catch((error: Error) => {
          this.logger.warn({ err: error.message }, 'history write failed')
        })
    }
    view.on('delta', onDelta)
    this.detach = () => view.off('delta', onDelta)
  }

  /** Waits for pending writes (tests, shutdown). */
  settled(): Promise<void> {
    return this.writing
  }

  async close(): Promise<void> {
    this.detach?.()
    await this.writing
    await this.db.close()
  }

  private async save(delta: Delta): Promise<void> {
    const batch = this.db.batch()
    for (const block of delta.blocks ?? []) {
      batch.put(`${BLOCK}${block.hash}`, JSON.stringify(block))
      this.blocks.set(block.hash, block.firstSeen)
    }
    if (this.blocks.size > this.maxBlocks) {
      const oldest = [...this.blocks].sort((a, b) => a[1] - b[1])
      for (const [hash] of oldest.slice(0, this.blocks.size - this.maxBlocks)) {
        batch.del(`${BLOCK}${hash}`)
        this.blocks.delete(hash)
      }
    }
    for (const event of delta.events ?? []) {
      const key = eventKey(this.nextEvent++)
      batch.put(key, JSON.stringify(event))
      this.eventKeys.push(key)
    }
    while (this.eventKeys.length > this.maxEvents) batch.del(this.eventKeys.shift()!)
    await batch.write()
  }
}
