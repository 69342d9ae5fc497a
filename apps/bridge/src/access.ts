import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/**
 * Who may read the bridge. The page and its WebSocket carry nothing secret,
 * but a bridge often runs on a laptop or an operator's box next to nodes
 * whose APIs are loopback-only, so two attacks matter:
 *
 * - Cross-site WebSocket hijacking: a page on evil.example opens
 *   `ws://127.0.0.1:8080/ws`. The browser sends `Origin: http://evil.example`;
 *   we accept only our own origin (or the configured ones).
 * - DNS rebinding: evil.example's name is re-pointed at 127.0.0.1, so the
 *   browser thinks the bridge *is* evil.example and sends a matching
 *   `Host: evil.example:8080` and `Origin: http://evil.example:8080`. The
 *   origin check alone passes that pair; requiring `Host` to be a name we
 *   serve under stops it. An IP literal cannot be rebound (rebinding needs a
 *   DNS name), so IP hosts are accepted; names must be `localhost` or listed
 *   (`--allow-host`).
 *
 * Non-browser clients (no Origin) are let through: they can read the
 * network over P2P themselves, the bridge adds nothing they could not get.
 */
export interface AccessPolicy {
  /** Host names (without port) the bridge answers to, beside IP literals and `localhost`. */
  allowedHosts: readonly string[]
  /** Origins allowed to open the WebSocket; empty means same origin only. */
  allowedOrigins: readonly string[]
}

export type AccessVerdict =
  | { ok: true }
  | { ok: false; reason: 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED' }

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased. */
export function hostName(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  } catch {
    return undefined
  }
}

/** Whether a request's Host header names this bridge (the DNS rebinding check). */
export function hostAllowed(host: string | undefined, policy: AccessPolicy): boolean {
  // HTTP/1.1 requires Host; a request without one is not from a browser.
  if (host === undefined) return true
  const name = hostName(host)
  if (name === undefined || name === '') return false
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true
  return policy.allowedHosts.some((h) => h.toLowerCase() === name)
}

/** Host first (rebinding), then Origin (cross-site). */
export function checkAccess(request: IncomingMessage, policy: AccessPolicy): AccessVerdict {
  const host = request.headers.host
  if (!hostAllowed(host, policy)) return { ok: false, reason: 'HOST_NOT_ALLOWED' }
  const origin = request.headers.origin
  if (origin === undefined) return { ok: true }
  if (policy.allowedOrigins.length)
    return policy.allowedOrigins.includes(origin)
      ? { ok: true }
      : { ok: false, reason: 'ORIGIN_NOT_ALLOWED' }
  try {
    return new URL(origin).host === host
      ? { ok: true }
      : { ok: false, reason: 'ORIGIN_NOT_ALLOWED' }
  } catch {
    return { ok: false, reason: 'ORIGIN_NOT_ALLOWED' }
  }
}
