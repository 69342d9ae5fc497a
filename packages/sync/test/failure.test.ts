// Which failed syncs are retried: those that failed with the connection or for a reason of ours,
// never those the peer's blocks (or its protocol offences) disproved.
import { PeerGoneError, TooManyPendingError } from '@chronos/peer'
import { describe, expect, it } from 'vitest'
import { RangeUnavailableError, SyncError } from '../src/errors.js'
import { retryable } from '../src/failure.js'

describe('retryable: whether a failed sync is tried again', () => {
  it.each([
    {
      name: 'a request that timed out',
      error: new PeerGoneError('p', 'REQUEST_TIMEOUT'),
      retry: true,
    },
    {
      name: 'a session the peer closed',
      error: new PeerGoneError('p', 'REMOTE_CLOSE'),
      retry: true,
    },
    {
      name: 'a connection replaced',
      error: new PeerGoneError('p', 'DUPLICATE_CONNECTION'),
      retry: true,
    },
    { name: 'too many requests waiting', error: new TooManyPendingError('p', 64), retry: true },
    { name: 'nobody left to serve a height', error: new RangeUnavailableError(7), retry: true },
    { name: 'a claim not served', error: new PeerGoneError('p', 'CLAIM_NOT_SERVED'), retry: false },
    { name: 'a malformed block', error: new PeerGoneError('p', 'MALFORMED_BLOCK'), retry: false },
    { name: 'an invalid block', error: new PeerGoneError('p', 'INVALID_BLOCK'), retry: false },
    { name: 'a bad target block', error: new SyncError('SYNC_ABORTED', 'bad'), retry: false },
    { name: 'a reorg too deep', error: new SyncError('REORG_TOO_DEEP', 'deep'), retry: false },
    { name: 'a store error of ours', error: new Error('disk full'), retry: true },
  ])('$name: retried $retry', ({ error, retry }) => {
    expect(retryable(error)).toBe(retry)
  })
})
