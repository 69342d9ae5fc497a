/**
 * The part of a dial every transport shares: an AbortSignal, a dial
 * timeout, and settling exactly once. `start` begins the attempt and
 * returns how to cancel it.
 */
import { AbortedError, DialTimeoutError } from './errors.js'

export type DialStarter<C> = (
  succeed: (connection: C) => void,
  fail: (error: Error) => void,
) => (() => void) | undefined

export function attemptDial<C>(
  address: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  start: DialStarter<C>,
): Promise<C> {
  if (signal?.aborted) return Promise.reject(new AbortedError(`dial ${address}`))
  return new Promise<C>((resolve, reject) => {
    let settled = false
    let cancel: (() => void) | undefined
    const settle = (error: Error | undefined, connection?: C) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error) {
        cancel?.()
        reject(error)
      } else resolve(connection as C)
    }
    const onAbort = () => settle(new AbortedError(`dial ${address}`))
    const timer = setTimeout(() => settle(new DialTimeoutError(address, timeoutMs)), timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    cancel = start(
      (connection) => settle(undefined, connection),
      (error) => settle(error),
    )
  })
}
