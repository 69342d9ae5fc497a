// The image's HEALTHCHECK: 200 (synced) or 206 (syncing) from the node's
// GET /health is healthy; 503 (starting, stopping, no reachable peer), any
// other answer, or none within the timeout is not. The entrypoint wrote
// which URL to probe; without it, CHRONOS_API's port on loopback.
import { readFileSync } from 'node:fs'

let url
try {
  url = readFileSync('/tmp/chronos-health-url', 'utf8').trim()
} catch {
  const port = (process.env.CHRONOS_API ?? '7100').split(':').pop()
  url = `http://127.0.0.1:${port}/health`
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_500) })
  process.stdout.write(`${response.status} ${await response.text()}`)
  process.exit(response.status === 200 || response.status === 206 ? 0 : 1)
} catch (error) {
  process.stdout.write(`${url}: ${error.message}\n`)
  process.exit(1)
}
