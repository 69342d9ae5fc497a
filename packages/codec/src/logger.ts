/**
 * The structured-logger shape every Chronos package logs through. It lives
 * in the codec, the package everything already depends on, so that sync and
 * gossip need not import it from the transport. pino satisfies it.
 */
export interface Logger {
  debug(object: object, message?: string): void
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

/** A Logger that drops everything: the default of every package. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
