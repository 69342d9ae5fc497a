import { Writable } from 'node:stream'
import type { Logger as PackageLogger } from '@chronos/codec'
import { type LevelWithSilent, type Logger, pino } from 'pino'

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
}
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname'])

/** One pino JSON line as `12:00:01.250 INFO  message key=value ...` for a terminal. */
export function prettyLine(line: string, colour: boolean): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line)
  } catch {
    return line
  }
  const [name, tint] = LEVELS[record.level as number] ?? ['?????', '']
  const time = new Date(record.time as number).toISOString().slice(11, 23)
  const fields = Object.entries(record)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ')
  const level = colour ? `${tint}${name}\x1b[0m` : name
  return `${time} ${level} ${record.msg ?? ''}${fields ? ` ${colour ? '\x1b[90m' : ''}${fields}${colour ? '\x1b[0m' : ''}` : ''}`
}

/**
 * Structured logs: JSON lines (for collectors) unless the output is a
 * terminal, where the same records are printed one readable line each.
 */
export function createLogger(
  level: LevelWithSilent,
  pretty = process.stdout.isTTY === true,
): Logger {
  if (!pretty) return pino({ level, base: undefined })
  let pending = ''
  const out = new Writable({
    write(chunk, _encoding, done) {
      pending += chunk.toString()
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        process.stdout.write(`${prettyLine(pending.slice(0, newline), true)}\n`)
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
      done()
    },
  })
  return pino({ level, base: undefined }, out)
}

/**
 * A logger for one component: pino's `child` where the logger has one,
 * otherwise the packages' plain `Logger` with the bindings merged into each
 * record (so a library caller may pass either).
 */
export function childLogger(
  logger: PackageLogger,
  bindings: Record<string, unknown>,
): PackageLogger {
  const parent = logger as PackageLogger & { child?: (bindings: object) => PackageLogger }
  if (typeof parent.child === 'function') return parent.child(bindings)
  return {
    debug: (object, message) => logger.debug({ ...bindings, ...object }, message),
    info: (object, message) => logger.info({ ...bindings, ...object }, message),
    warn: (object, message) => logger.warn({ ...bindings, ...object }, message),
    error: (object, message) => logger.error({ ...bindings, ...object }, message),
  }
}
