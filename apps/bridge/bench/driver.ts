import type { NetworkView } from '../src/view.js'

/**
 * 200 simulated nodes feeding a NetworkView at the rates the observer
 * would: a Status-like update per node per second, and per round one block
 * spreading over ~250 ms in random order (some nodes see its hash first and
 * pull it, the rest get it pushed), then confirmed everywhere, with a
 * losing candidate every few rounds. In memory: the bench measures the
 * bridge, not 200 networking stacks on two cores.
 */
export class SimulatedNetwork {
  private timer: NodeJS.Timeout | undefined
  private height = 0
  private readonly addresses: string[]
  private queue: { at: number; run: () => void }[] = []
  private nextBeat = 0

  constructor(
    private readonly view: NetworkView,
    nodes: number,
    private readonly roundMs = 1000,
  ) {
    this.addresses = Array.from({ length: nodes }, (_, i) => `10.0.${i >> 8}.${i & 255}:7000`)
  }

  start(): void {
    const started = Date.now()
    let nextRound = started
    this.timer = setInterval(() => {
      const now = Date.now()
      if (now >= nextRound) {
        this.round(now)
        nextRound += this.roundMs
      }
      if (now >= this.nextBeat) {
        this.beat()
        this.nextBeat = now + 1000
      }
      const due = this.queue.filter((q) => q.at <= now)
      this.queue = this.queue.filter((q) => q.at > now)
      for (const q of due) q.run()
    }, 10)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private beat(): void {
    for (const [i, address] of this.addresses.entries())
      this.view.updateNode(address, {
        height: this.height,
        head: hash(this.height),
        rttMs: 1 + (i % 7),
        peers: 8,
        pending: i % 13,
        producing: i < 2,
        source: 'api',
        up: true,
      })
  }

  private round(now: number): void {
    this.height++
    const h = this.height
    const candidates = h % 4 === 0 ? [hash(h), `f${hash(h).slice(1)}`] : [hash(h)]
    for (const [c, block] of candidates.entries()) {
      const order = shuffle([...this.addresses])
      const producer = order[0]!
      for (const [i, node] of order.entries()) {
        const at = now + Math.round((i / order.length) * 250)
        const via = i ? order[Math.floor(Math.random() * i)]! : null
        const pulled = i % 3 === 1
        this.queue.push({
          at,
          run: () => {
            if (pulled)
              this.view.observe(node, {
                hash: block,
                at,
                arrival: 'announced',
                via,
                reported: true,
              })
            this.view.observe(node, {
              hash: block,
              at: at + (pulled ? 5 : 0),
              arrival: i ? 'push' : 'produced',
              via,
              height: h,
              producer,
              transactions: 20,
              reported: true,
            })
          },
        })
        if (c === 0)
          this.queue.push({
            at: now + 600,
            run: () =>
              this.view.observe(node, {
                hash: block,
                at: now + 600,
                arrival: 'seen',
                confirmed: true,
                reported: true,
              }),
          })
      }
    }
  }
}

const hash = (height: number) => height.toString(16).padStart(64, '0')

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
