/**
 * The life of one address we dial, as a state machine: no flags, one
 * transition function, tested as a table of (state, event) -> state on a
 * fake clock. The PeerManager owns the timers and sockets; this decides.
 *
 *   idle --dial--> dialing --connected--> connected --lost--> backoff
 *                     |                                          ^
 *                     +--failed / refused (banned) --------------+
 *   backoff --due--> dialing
 */
export type DialState =
  | { state: 'idle' }
  | { state: 'dialing'; attempts: number }
  | { state: 'connected'; peerId: string }
  /** Waiting until `retryAt`; `banned` when the peer at the address is refused for now. */
  | { state: 'backoff'; attempts: number; retryAt: number; banned: boolean }

export type DialEvent =
  | { type: 'dial' }
  | { type: 'connected'; peerId: string }
  /** The dial or its handshake failed. */
  | { type: 'failed' }
  /** The peer at the address is refused for `ms` more. */
  | { type: 'refused'; ms: number }
  /** Our outbound connection to it closed. */
  | { type: 'lost' }
  /** The backoff's wait is over. */
  | { type: 'due' }

export interface BackoffLimits {
  /** First retry delay; doubles per consecutive failure. */
  reconnectMinMs: number
  reconnectMaxMs: number
}

export interface DialClock {
  now: number
  /** In [0, 1): spreads retries (jitter of up to half the delay). */
  random: number
}

export const IDLE: DialState = { state: 'idle' }

function backoff(attempts: number, clock: DialClock, limits: BackoffLimits): DialState {
  const base = Math.min(limits.reconnectMaxMs, limits.reconnectMinMs * 2 ** attempts)
  return {
    state: 'backoff',
    attempts: attempts + 1,
    retryAt: clock.now + base * (0.5 + clock.random / 2),
    banned: false,
  }
}

/** The next state; an event that does not apply to a state leaves it unchanged. */
export function nextDialState(
  current: DialState,
  event: DialEvent,
  clock: DialClock,
  limits: BackoffLimits,
): DialState {
  switch (event.type) {
    case 'dial':
      return current.state === 'idle' ? { state: 'dialing', attempts: 0 } : current
    case 'due':
      return current.state === 'backoff'
        ? { state: 'dialing', attempts: current.attempts }
        : current
    case 'connected':
      return current.state === 'dialing' ? { state: 'connected', peerId: event.peerId } : current
    case 'failed':
      return current.state === 'dialing' ? backoff(current.attempts, clock, limits) : current
    case 'refused':
      if (current.state !== 'dialing' && current.state !== 'connected') return current
      return {
        state: 'backoff',
        attempts: current.state === 'dialing' ? current.attempts + 1 : 1,
        retryAt: clock.now + event.ms,
        banned: true,
      }
    case 'lost':
      // A connection that worked starts the backoff over.
      return current.state === 'connected' ? backoff(0, clock, limits) : current
  }
}
