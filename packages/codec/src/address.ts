/** `host:port` strings, as Status addresses and transports use them. */

export interface HostPort {
  /** Hostname, IPv4, or IPv6 without brackets. */
  host: string
  port: number
}

const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([^\s:[\]]+)):(\d{1,5})$/

/** Parses `host:port` (`[v6]:port` for IPv6); undefined when it is not one. */
export function parseAddress(address: string): HostPort | undefined {
  const match = ADDRESS.exec(address)
  if (!match) return undefined
  const port = Number(match[3])
  if (port > 65_535) return undefined
  return { host: (match[1] ?? match[2])!, port }
}

/** Formats a host and port, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
