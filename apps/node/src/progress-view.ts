import type { SyncProgress } from '@chronos/sync'
import type { Logger } from 'pino'

const formatEta = (seconds: number | undefined) =>
  seconds === undefined
    ? '?'
    : seconds < 90
      ? `${Math.ceil(seconds)}s`
      : `${Math.ceil(seconds / 60)}m`

/** One line of the terminal progress bar. */
export function progressBar(p: SyncProgress, width = 30): string {
  const fraction = p.target > 0 ? Math.min(1, p.height / p.target) : 1
  const filled = Math.round(fraction * width)
  return `sync [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.height}/${p.target} ${p.blocksPerSecond.toFixed(0)} blk/s ETA ${formatEta(p.etaSeconds)} (${p.peers} peers)`
}

/** A redrawn bar on a terminal; a log line per report (about one a second) otherwise. */
export function createProgressView(logger: Logger, tty = process.stderr.isTTY === true) {
  return (progress: SyncProgress) => {
    if (!tty) {
      logger.info(
        { ...progress, blocksPerSecond: Math.round(progress.blocksPerSecond) },
        'sync progress',
      )
      return
    }
    const done = progress.height >= progress.target
    process.stderr.write(`\r${progressBar(progress)}${done ? '\n' : ''}`)
  }
}
