import { ChronosError } from '@chronos/codec'

export type SyncErrorCode = 'SYNC_ABORTED' | 'REORG_TOO_DEEP' | 'RANGE_UNAVAILABLE'

/** Why a sync with one peer stopped early. The engine logs it and moves on to other peers. */
export class SyncError extends ChronosError<SyncErrorCode> {}

/** Nobody left can serve a height of the range. */
export class RangeUnavailableError extends SyncError {
  constructor(readonly height: number) {
    super('RANGE_UNAVAILABLE', `no peer left can serve height ${height}`)
  }
}
