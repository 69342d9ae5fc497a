import { ChronosError } from '@chronos/codec'

/** A broken invariant: thrown out of a target so the fuzzer records the input as a crash. */
export class FuzzFinding extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'FuzzFinding'
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FuzzFinding(message)
}

/** Bad input may only ever fail with a typed error whose code is one the caller expects. */
export function expectTyped(
  error: unknown,
  where: string,
  codes?: ReadonlySet<string>,
): asserts error is ChronosError {
  if (error instanceof FuzzFinding) throw error
  if (!(error instanceof ChronosError))
    throw new FuzzFinding(`${where}: untyped ${describe(error)}`, { cause: error })
  if (codes && !codes.has(error.code))
    throw new FuzzFinding(`${where}: unexpected code ${error.code} (${error.message})`, {
      cause: error,
    })
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/**
 * Unhandled rejections and uncaught exceptions from timers and promise
 * chains of the code under test: the session targets fail on any.
 */
const escaped: unknown[] = []
let watching = false
export function watchEscapes(): void {
  if (watching) return
  watching = true
  process.on('unhandledRejection', (reason) => escaped.push(reason))
}

export function throwIfEscaped(where: string, tolerated?: (reason: unknown) => boolean): void {
  const first = escaped.find((reason) => !tolerated?.(reason))
  escaped.length = 0
  if (first !== undefined)
    throw new FuzzFinding(`${where}: unhandled rejection ${describe(first)}`, { cause: first })
}
