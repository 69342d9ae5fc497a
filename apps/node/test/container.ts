// Podman for the container test: a probe that says why it cannot run here,
// one way to invoke it (runc, host network, the ulimits this machine allows),
// and Pods made from deploy/kubernetes/statefulset.yaml for `podman kube play`,
// which has no StatefulSet: each Pod is the StatefulSet's template under a
// pod's name, on the host network with loopback ports.
import { execFile, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { parse, parseAllDocuments, stringify } from 'yaml'

const exec = promisify(execFile)

/** The ulimits runc may set here (podman's defaults exceed the hard limits of these machines). */
export const ULIMITS = ['nofile=1024:1024', 'nproc=1024:1024']

/** Why podman cannot run containers here, or undefined when it can. */
export function podmanUnavailable(): string | undefined {
  try {
    execFileSync('podman', ['--version'], { stdio: 'pipe' })
  } catch {
    return 'podman is not installed (scripts/run.sh installs it with apt-get when run as root)'
  }
  try {
    execFileSync('runc', ['--version'], { stdio: 'pipe' })
  } catch {
    return 'runc is not installed'
  }
  try {
    execFileSync('podman', ['--runtime', 'runc', 'info'], { stdio: 'pipe', timeout: 30_000 })
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim()
    return `podman cannot run here: ${stderr.split('\n').at(-1) || (error as Error).message}`
  }
  return undefined
}

/**
 * Runs podman with runc; `CONTAINERS_CONF` points at a file that gives every
 * container, including those `kube play` makes, the ulimits above.
 */
export async function podman(
  args: string[],
  options: { conf?: string; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await exec('podman', ['--runtime', 'runc', ...args], {
      env: options.conf ? { ...process.env, CONTAINERS_CONF: options.conf } : process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    const failure = error as Error & { stderr?: string; stdout?: string }
    const tail = `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim().split('\n').slice(-25)
    throw new Error(`podman ${args.slice(0, 3).join(' ')} failed: ${tail.join('\n')}`)
  }
}

/** containers.conf for the test: runc, and ulimits for containers run by kube play. */
export function containersConf(): string {
  return [
    '[containers]',
    `default_ulimits = [${ULIMITS.map((u) => JSON.stringify(u)).join(', ')}]`,
    '',
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n')
}

export interface PodPlan {
  /** The pod's name (unique on the machine); the node's own name is `node`. */
  name: string
  node: string
  p2p: string
  api: string
  /** Host directories mounted at the StatefulSet's volume paths. */
  data: string
  genesisDir: string
  keysDir: string
  /** For the emptyDir at /tmp (the root filesystem is read-only, as in the manifest). */
  tmp: string
}

type EnvVar = { name: string; value?: string; valueFrom?: unknown }
type Container = {
  name: string
  image: string
  args?: string[]
  env?: EnvVar[]
  ports?: unknown
  readinessProbe?: unknown
  livenessProbe?: unknown
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[]
}

/**
 * The StatefulSet's pod template as one Pod per plan. What kube play cannot
 * do the way a cluster does is swapped, and only that: the volumes become
 * host directories, the pod's DNS name becomes its loopback address (the
 * host network; no port mappings), and the HTTP probes go (kube play would run them with curl, which the image
 * lacks; the test checks /health, /ready and the image's HEALTHCHECK itself).
 */
export function podsFromStatefulSet(
  file: string,
  image: string,
  plans: readonly PodPlan[],
): string {
  const set = parse(readFileSync(file, 'utf8'))
  if (set?.kind !== 'StatefulSet') throw new Error(`${file} is not a StatefulSet`)
  const template = set.spec.template
  const bootstrap = plans.slice(0, 2).map((p) => p.p2p)
  return plans
    .map((plan) => {
      const spec = structuredClone(template.spec)
      spec.hostNetwork = true
      spec.restartPolicy = 'Never'
      const container: Container = spec.containers[0]
      container.image = image
      delete container.readinessProbe
      delete container.livenessProbe
      // On the host network the container's ports are the host's: nothing to map.
      delete container.ports
      const overrides: Record<string, string> = {
        CHRONOS_NAME: plan.node,
        CHRONOS_LISTEN: plan.p2p,
        CHRONOS_ADVERTISE: plan.p2p,
        CHRONOS_API: plan.api,
        CHRONOS_PEERS: bootstrap.join(' '),
      }
      const env = (container.env ?? []).filter(
        (v) => v.name !== 'POD_NAME' && !(v.name in overrides),
      )
      container.env = [
        ...env,
        ...Object.entries(overrides).map(([name, value]) => ({ name, value })),
      ]
      const hostPaths: Record<string, string | undefined> = {
        data: plan.data,
        genesis: plan.genesisDir,
        'producer-keys': plan.keysDir,
        tmp: plan.tmp,
      }
      container.volumeMounts = (container.volumeMounts ?? []).filter(
        (m) => hostPaths[m.name] !== undefined,
      )
      spec.volumes = container.volumeMounts.map((m) => ({
        name: m.name,
        hostPath: { path: hostPaths[m.name], type: 'Directory' },
      }))
      return stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: plan.name, labels: template.metadata.labels },
        spec,
      })
    })
    .join('---\n')
}

/**
 * deploy/kubernetes/bridge.yaml's Deployment on the host network, watching
 * `nodes` (`p2p@api` each) instead of the StatefulSet's DNS names.
 */
export function bridgeFromManifest(
  file: string,
  image: string,
  options: { name: string; listen: string; p2pListen: string; nodes: readonly string[] },
): string {
  const deployment = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS())
    .find((doc) => doc?.kind === 'Deployment')
  if (!deployment) throw new Error(`${file} has no Deployment`)
  deployment.metadata.name = options.name
  const spec = deployment.spec.template.spec
  spec.hostNetwork = true
  const container: Container = spec.containers[0]
  container.image = image
  const rewritten: string[] = []
  for (const arg of container.args ?? []) {
    if (arg.startsWith('--node=')) continue
    if (arg.startsWith('--listen=')) rewritten.push(`--listen=${options.listen}`)
    else if (arg.startsWith('--p2p-listen=')) rewritten.push(`--p2p-listen=${options.p2pListen}`)
    else rewritten.push(arg)
  }
  container.args = [...rewritten, ...options.nodes.map((node) => `--node=${node}`)]
  delete container.ports
  delete container.readinessProbe
  delete container.livenessProbe
  // Its /tmp emptyDir: the container's own layer, made writable (no host directory needed).
  delete container.volumeMounts
  delete spec.volumes
  ;(container as { securityContext?: Record<string, unknown> }).securityContext = {
    ...(container as { securityContext?: Record<string, unknown> }).securityContext,
    readOnlyRootFilesystem: false,
  }
  return stringify(deployment)
}
