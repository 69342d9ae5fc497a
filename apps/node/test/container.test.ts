// The image and the Kubernetes manifests, run for real: build the
// Containerfile (on a local base image made from this machine's node, as no
// registry is reachable), start 3 nodes with `podman kube play` from Pods
// made of deploy/kubernetes/statefulset.yaml, on loopback ports, and check
// that they converge on one chain, answer /health and /ready, pass the
// image's HEALTHCHECK, and stop cleanly on SIGTERM (exit 0, not killed).
// Where podman cannot run it says why and is skipped.
import { execFile } from 'node:child_process'
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it, onTestFailed } from 'vitest'
import {
  bridgeFromManifest,
  containersConf,
  type PodPlan,
  podman,
  podmanUnavailable,
  podsFromStatefulSet,
  ULIMITS,
} from './container.js'
import { tempDir } from './network.js'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const unavailable = podmanUnavailable()
if (unavailable) console.log(`container test skipped: ${unavailable}`)

const NODES = 3
const PRODUCERS = 2
const ROUND_MS = 1000
const run = `ct${process.pid}`
const baseImage = `localhost/chronos-test-base:${run}`
/** Set CHRONOS_TEST_IMAGE to an image built from this tree to skip the build (iterating on the test). */
const prebuilt = process.env.CHRONOS_TEST_IMAGE
const image = prebuilt ?? `localhost/chronos-test:${run}`
const dir = tempDir('chronos-container-')
const conf = join(dir.path, 'containers.conf')
const podsFile = join(dir.path, 'pods.yaml')
const runFlags = ['--network', 'host', ...ULIMITS.flatMap((u) => ['--ulimit', u])]
const created = {
  kube: undefined as string | undefined,
  images: [] as string[],
  containers: [] as string[],
}
const failureLogs = fileURLToPath(new URL('../test-results/container-logs', import.meta.url))

afterAll(async () => {
  if (created.kube) await podman(['kube', 'down', created.kube], { conf }).catch(() => {})
  for (const tag of created.images) await podman(['rmi', '-f', tag]).catch(() => {})
  // The build stage's layers are labelled; drop those no image uses any more.
  await podman(['image', 'prune', '-f', '--filter', 'label=org.chronos.stage=build']).catch(
    () => {},
  )
  dir.remove()
}, 180_000)

/** A loopback address with a port the OS says is free now. */
const freeAddress = () =>
  new Promise<string>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(`127.0.0.1:${port}`))
    })
  })

/** A directory the image's user (uid 1000) owns. */
function ownedDir(name: string): string {
  const path = join(dir.path, name)
  mkdirSync(path, { recursive: true })
  chownSync(path, 1000, 1000)
  return path
}

/** The members of the API's answers the test reads (/health, /status, /blocks/:height). */
interface ApiBody {
  height?: number
  /** /status lists them; /health counts them. */
  peers?: unknown[] | number
  block_header?: { hash: string; producer: string }
  permissioned?: boolean
}

async function getJson(url: string): Promise<{ status: number; body: ApiBody } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
    return { status: response.status, body: (await response.json()) as ApiBody }
  } catch {
    return undefined
  }
}

/** Re-checks `probe` every 250 ms until it returns a value; fails after `timeoutMs` naming `what`. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await probe()
    if (last !== undefined) return last
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('the image on the Kubernetes manifests (podman kube play)', () => {
  it.skipIf(unavailable !== undefined)(
    'builds, and 3 nodes converge, answer /health and /ready, pass HEALTHCHECK and stop on SIGTERM',
    async () => {
      writeFileSync(conf, containersConf())
      // On failure, every container's log is kept for reading.
      onTestFailed(async () => {
        mkdirSync(failureLogs, { recursive: true })
        for (const name of [...created.containers]) {
          const logs = await podman(['logs', name]).catch((error: Error) => error.message)
          writeFileSync(join(failureLogs, `${name}.log`), logs)
        }
        console.log(`container logs in ${failureLogs}`)
      })
      const started = performance.now()
      const seconds = () => ((performance.now() - started) / 1000).toFixed(1)

      if (prebuilt) console.log(`using the prebuilt image ${image} (CHRONOS_TEST_IMAGE)`)
      else {
        await exec('bash', [join(root, 'deploy/test/local-base-image.sh'), baseImage], {
          timeout: 120_000,
        })
        created.images.push(baseImage)
        const build = ['build', '--runtime', 'runc', '--format', 'docker', ...runFlags]
        build.push('--build-arg', `BASE_IMAGE=${baseImage}`, '-t', image, '-f', 'Containerfile')
        // A populated pnpm store, overlaid (writes stay in the build): no registry needed.
        const store = (await exec('pnpm', ['store', 'path']).catch(() => ({ stdout: '' }))).stdout
        const storeRoot = store.trim().replace(/\/v\d+$/, '')
        if (storeRoot) build.push('-v', `${storeRoot}:/pnpm/store:O`)
        created.images.push(image)
        await podman([...build, root], { timeoutMs: 420_000 })
        console.log(`image built in ${seconds()} s`)
      }

      const cli = (args: string[], mounts: string[] = []) =>
        podman(['run', '--rm', ...runFlags, ...mounts.flatMap((m) => ['-v', m]), image, ...args])
      // A permissioned network: the producers' keys, made by the image, listed in the genesis.
      const names = Array.from({ length: NODES }, (_, i) => `chronos-${i}`)
      const keysDir = ownedDir('keys')
      const producerKeys: string[] = []
      for (const name of names.slice(0, PRODUCERS))
        producerKeys.push(
          (await cli(['key', '--out', `/keys/${name}.json`], [`${keysDir}:/keys`])).trim(),
        )
      const genesisArgs = ['genesis', '--network', 'container-test', '--round-ms', String(ROUND_MS)]
      for (const key of producerKeys) genesisArgs.push('--producer', key)
      const genesisDir = ownedDir('genesis')
      writeFileSync(join(genesisDir, 'genesis.json'), await cli(genesisArgs))

      // HEALTHCHECK survives only in the docker image format: check the image carries it.
      const config = JSON.parse(
        await podman(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', image]),
      ) as { Test?: string[] } | null
      expect(config?.Test?.[0], 'image HEALTHCHECK').toBe('CMD')
      const healthcheck = config!.Test!.slice(1)

      const plans: PodPlan[] = []
      for (const [i, node] of names.entries())
        plans.push({
          name: `${run}-${node}`,
          node,
          p2p: await freeAddress(),
          api: await freeAddress(),
          data: ownedDir(`data-${i}`),
          genesisDir,
          keysDir,
          tmp: ownedDir(`tmp-${i}`),
        })
      const manifest = join(root, 'deploy/kubernetes/statefulset.yaml')
      writeFileSync(podsFile, podsFromStatefulSet(manifest, image, plans))
      const bridgeListen = await freeAddress()
      const bridge = bridgeFromManifest(join(root, 'deploy/kubernetes/bridge.yaml'), image, {
        name: `${run}-bridge`,
        listen: bridgeListen,
        p2pListen: await freeAddress(),
        nodes: plans.map((p) => `${p.p2p}@${p.api}`),
      })
      writeFileSync(podsFile, `${readFileSync(podsFile, 'utf8')}---\n${bridge}`)
      created.kube = podsFile
      created.containers.push(...plans.map((p) => `${p.name}-node`), `${run}-bridge-pod-0-bridge`)
      await podman(['kube', 'play', podsFile], { conf })
      const playedAt = performance.now()

      // Converged: every node synced (/health 200) and one block at the lowest height >= 3.
      const agreed = await waitFor(
        '3 nodes synced on one chain of >= 3 blocks',
        120_000,
        async () => {
          const health = await Promise.all(plans.map((p) => getJson(`http://${p.api}/health`)))
          if (!health.every((h) => h?.status === 200)) return undefined
          const height = Math.min(...health.map((h) => h!.body.height as number))
          if (height < 3) return undefined
          const blocks = await Promise.all(
            plans.map((p) => getJson(`http://${p.api}/blocks/${height}`)),
          )
          const hashes = new Set(blocks.map((b) => b?.body?.block_header?.hash))
          return hashes.size === 1 && !hashes.has(undefined) ? { height, blocks } : undefined
        },
      )
      console.log(
        `3 containers on one chain at height ${agreed.height} ${((performance.now() - playedAt) / 1000).toFixed(1)} s after kube play`,
      )
      const producers = new Set<string | undefined>()
      for (let h = 1; h <= agreed.height; h++) {
        const block = await getJson(`http://${plans[2]!.api}/blocks/${h}`)
        producers.add(block?.body.block_header?.producer)
      }
      // The follower (no producer key) holds blocks sealed by the producer pods' keys only.
      const strangers = [...producers].filter((id) => !producerKeys.includes(id!))
      expect(strangers, 'blocks by keys the genesis does not list').toEqual([])
      for (const plan of plans) {
        // Ready means synced: under load a node may trail by two blocks for a moment, so wait for it.
        await waitFor(`${plan.node} /ready 200`, 60_000, async () =>
          (await getJson(`http://${plan.api}/ready`))?.status === 200 ? true : undefined,
        )
        const status = await getJson(`http://${plan.api}/status`)
        expect(status?.body.peers, `${plan.node} peers`).not.toHaveLength(0)
        expect(status?.body.permissioned, `${plan.node} permissioned`).toBe(true)
        // The image's HEALTHCHECK command, as the image defines it (kube play drops it), in the container.
        const check = await podman(['exec', `${plan.name}-node`, ...healthcheck], { conf })
        // It exits 0 (podman would throw otherwise) on 200 synced or 206 syncing.
        expect(check, `${plan.node} HEALTHCHECK`).toMatch(/^20[06] /)
      }

      // The bridge (bridge.yaml's Deployment) serves its page with the nodes it watches.
      const page = await waitFor('the bridge page', 30_000, async () => {
        const response = await fetch(`http://${bridgeListen}/`).catch(() => undefined)
        return response?.status === 200 ? response : undefined
      })
      expect(page.headers.get('content-type')).toMatch(/text\/html/)

      // SIGTERM reaches the node: it logs it, shuts down and exits 0 well before podman's SIGKILL.
      for (const plan of plans) {
        const stopAt = performance.now()
        await podman(['pod', 'stop', '-t', '20', plan.name], { conf })
        const stopMs = performance.now() - stopAt
        const container = `${plan.name}-node`
        const exitCode = (
          await podman(['inspect', '--format', '{{.State.ExitCode}}', container])
        ).trim()
        const logs = await podman(['logs', container])
        const records = logs
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
        expect(exitCode, `${plan.node} exit code (logs:\n${logs.slice(-2000)})`).toBe('0')
        expect(records.some((r) => r.msg === 'shutting down' && r.signal === 'SIGTERM')).toBe(true)
        expect(records.some((r) => r.msg === 'node stopped')).toBe(true)
        expect(stopMs, `${plan.node} stop took ${stopMs} ms`).toBeLessThan(15_000)
      }
      console.log(`container test done in ${seconds()} s`)
    },
    480_000,
  )
})
