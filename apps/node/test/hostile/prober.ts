// An honest peer that keeps asking while a hostile input runs: every `intervalMs` a fresh
// connection from another loopback address does SHAKEHAND then PULL_BLOCK and times the
// answer. A probe not answered within 2 s counts as a failure. It also samples RSS.
import { RawPeer } from './raw-peer.js'

export const PROBE_DEADLINE_MS = 2_000

export interface ProbeReport {
  probes: number
  failures: number
  maxMs: number
  peakRssMb: number
}

export class HonestProber {
  private running = false
  private loop: Promise<void> | undefined
  private report: ProbeReport = { probes: 0, failures: 0, maxMs: 0, peakRssMb: 0 }

  constructor(
    private readonly target: () => string,
    private readonly status: () => Record<string, unknown>,
    private readonly local = '127.0.0.3',
  ) {}

  /** One probe: ms until the PULL_BLOCK answer, or Infinity when it did not come within the deadline. */
  async probe(): Promise<number> {
    const started = performance.now()
    let peer: RawPeer | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      const answered = (async () => {
        peer = await RawPeer.connect(this.target(), this.local)
        peer.send({ code: 'SHAKEHAND', data: this.status() })
        if (!(await peer.next('SHAKEHAND'))) return false
        peer.send({ code: 'PULL_BLOCK', data: 1 })
        return (await peer.next('PUSH_BLOCK')) !== undefined
      })()
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), PROBE_DEADLINE_MS)
      })
      const ok = await Promise.race([answered, deadline]).catch(() => false)
      return ok ? performance.now() - started : Number.POSITIVE_INFINITY
    } finally {
      clearTimeout(timer)
      peer?.close()
    }
  }

  start(intervalMs = 250): void {
    this.running = true
    this.report = { probes: 0, failures: 0, maxMs: 0, peakRssMb: rssMb() }
    this.loop = (async () => {
      while (this.running) {
        const ms = await this.probe()
        this.report.probes++
        if (!Number.isFinite(ms)) this.report.failures++
        else this.report.maxMs = Math.max(this.report.maxMs, ms)
        this.report.peakRssMb = Math.max(this.report.peakRssMb, rssMb())
        if (this.running) await new Promise((resolve) => setTimeout(resolve, intervalMs))
      }
    })()
  }

  async stop(): Promise<ProbeReport> {
    this.running = false
    await this.loop
    this.report.peakRssMb = Math.max(this.report.peakRssMb, rssMb())
    return { ...this.report }
  }
}

export const rssMb = () => process.memoryUsage().rss / 2 ** 20
