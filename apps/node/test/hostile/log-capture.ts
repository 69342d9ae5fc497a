import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { pino } from 'pino'

export type LogRecord = Record<string, unknown>

/** A pino logger whose records tests can wait for. */
export function capturingLogger() {
  // Each record carries its sequence number, so a search can skip what was logged before a
  // given moment (a loopback port reused by a later connection must not match an old line).
  const records: { seq: number; record: LogRecord }[] = []
  let seen = 0
  const events = new EventEmitter()
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue
        const record = JSON.parse(line) as LogRecord
        records.push({ seq: ++seen, record })
        if (records.length > 50_000) records.splice(0, 10_000)
        events.emit('record', record)
      }
      done()
    },
  })
  const logger = pino({ level: 'debug', base: undefined }, stream)
  /** How many records have been logged so far: pass it to `find` as `after`. */
  const mark = () => seen
  /** The first record logged after `after` (past or future) that matches, or undefined after `timeoutMs`. */
  const find = (match: (r: LogRecord) => boolean, timeoutMs = 10_000, after = 0) =>
    new Promise<LogRecord | undefined>((resolve) => {
      const past = records.find((entry) => entry.seq > after && match(entry.record))
      if (past) return resolve(past.record)
      const onRecord = (record: LogRecord) => {
        if (!match(record)) return
        clearTimeout(timer)
        events.off('record', onRecord)
        resolve(record)
      }
      const timer = setTimeout(() => {
        events.off('record', onRecord)
        resolve(undefined)
      }, timeoutMs)
      events.on('record', onRecord)
    })
  return { logger, find, mark }
}
