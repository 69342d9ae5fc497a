// Fails the hostile suite on any unhandled rejection (issue 10: nothing a peer sends may
// surface as one). Installed when a hostile test file loads; each file asserts it saw none.
const seen: { reason: unknown; at: string }[] = []
let installed = false

export function installRejectionGuard(): void {
  if (installed) return
  installed = true
  process.on('unhandledRejection', (reason) => {
    seen.push({ reason, at: new Date().toISOString() })
  })
}

/** Unhandled rejections seen so far, described. */
export function unhandledRejections(): string[] {
  return seen.map(({ reason }) => {
    const error = reason as { code?: string; message?: string }
    return `${error?.code ?? 'no code'}: ${error?.message ?? String(reason)}`
  })
}
