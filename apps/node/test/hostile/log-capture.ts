import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { pino } from 'pino'

export type LogRecord = Record<string, unknown>

/** A pino logger whose records tests can wait for. */
export function capturingLogger() {
  const records: LogRecord[] = []
  const events = new EventEmitter()
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue
        const record = JSON.parse(line) as LogRecord
        records.push(record)
        if (records.length > 50_000) records.splice(0, 10_000)
        events.emit('record', record)
      }
      done()
    },
  })
  const logger = pino({ level: 'debug', base: undefined }, stream)
  /** The first record (past or future) that matches, or undefined after `timeoutMs`. */
  const find = (match: (r: LogRecord) => boolean, timeoutMs = 10_000) =>
    new Promise<LogRecord | undefined>((resolve) => {
      const past = records.find(match)
      if (past) return resolve(past)
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
  return { logger, records, find }
}
