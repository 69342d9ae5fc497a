/** `host:port` strings, as Status addresses and transports use them. */

export interface HostPort {
  /** Hostname, IPv4, or IPv6 without brackets. */
  host: string
  port: number
}

const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([^\s:[\]]+)):(\d{1,5})$/

/** DNS limits (RFC 1035/1123): a name of at most 253 characters, each dot-separated label 1..63. */
const MAX_HOST_NAME_CHARS = 253
const MAX_LABEL_CHARS = 63

function isHostName(host: string): boolean {
  if (host.length > MAX_HOST_NAME_CHARS) return false
  for (const label of host.split('.')) if (label.length > MAX_LABEL_CHARS) return false
  return true
}

/**
 * Parses `host:port` (`[v6]:port` for IPv6); undefined when it is not one.
 * A host that is not bracketed must fit DNS's limits: the shared vectors
 * refuse a 255-character address whose host is one 250-character label.
 */
export function parseAddress(address: string): HostPort | undefined {
  const match = ADDRESS.exec(address)
  if (!match) return undefined
  const port = Number(match[3])
  if (port > 65_535) return undefined
  if (match[2] !== undefined && !isHostName(match[2])) return undefined
  return { host: (match[1] ?? match[2])!, port }
}

/** Formats a host and port, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
