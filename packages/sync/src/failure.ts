import { PENALISED_REASONS, PeerGoneError } from '@chronos/peer'
import { RangeUnavailableError, SyncError } from './errors.js'

/**
 * Whether the claim a failed sync was after may still be true, so that it is
 * tried again after a backoff: the sync failed with its connection (a request
 * timed out or its session closed for a reason that is no offence, too many
 * requests waited, nobody was left to serve a height: a starved peer's timeout
 * looks just like a liar's) or for a reason of ours (a store error). Not when
 * the peer's blocks or its offences disproved it: a bad target block, a fork
 * deeper than we hold, a session closed for an offence. The engine also
 * counts its session to the target closed for an offence during the sync as
 * disproving, whatever error the sync then ended with.
 */
export function retryable(error: unknown): boolean {
  if (error instanceof PeerGoneError) return !PENALISED_REASONS.has(error.reason)
  if (error instanceof RangeUnavailableError) return true
  return !(error instanceof SyncError)
}
