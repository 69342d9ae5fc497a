/**
 * The lifecycle every long-running part of a node shares (the peer manager,
 * sync, gossip, the store, the node's HTTP API), so that whoever composes
 * them starts them in order and stops them in reverse from one list. It
 * lives in the codec beside `Logger`: the package everything depends on,
 * holding only the shape, no I/O.
 *
 * - `start()` acquires what the part needs (a listener, timers) and resolves
 *   once it is in service; a part built ready (the store) resolves at once.
 * - `stop()` releases everything; it is idempotent and safe before `start()`.
 */
export interface Service {
  start(): Promise<void>
  stop(): Promise<void>
}
