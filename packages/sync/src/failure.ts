import { PENALISED_REASONS, PeerGoneError, TooManyPendingError } from '@chronos/peer'
import { RangeUnavailableError } from './errors.js'

/**
 * Whether a sync failed with its connection rather than on the peer's blocks:
 * a request timed out or its session closed for a reason that is no offence,
 * too many requests waited, or nobody was left to serve a height. The claim
 * may be true (a starved peer's timeout looks just like a liar's), so it is
 * retried later; a claim its blocks disproved is not. The engine also counts
 * a target it (or its session) closed for an offence during the sync as
 * disproved, whatever error the sync then ended with.
 */
export function failedWithConnection(error: unknown): boolean {
  if (error instanceof PeerGoneError) return !PENALISED_REASONS.has(error.reason)
  return error instanceof TooManyPendingError || error instanceof RangeUnavailableError
}
