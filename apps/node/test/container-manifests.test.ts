// The deploy files agree with each other and with the CLI, without running
// anything: what the compose devnet's init prepares is what its nodes mount,
// its producers are the genesis producers, the bridge watches every node, and
// the StatefulSet's bootstrap names resolve through its headless Service.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8')

interface Service {
  command?: string[]
  environment?: Record<string, string>
  volumes?: string[]
  depends_on?: Record<string, { condition: string }> | string[]
}

describe('deploy/compose.yaml', () => {
  const compose = parse(read('deploy/compose.yaml'), { merge: true }) as {
    services: Record<string, Service>
    volumes: Record<string, unknown>
  }
  const nodes = Object.keys(compose.services).filter((name) => name.startsWith('node-'))
  const init = compose.services.init!
  const list = (value = '') => value.split(/[\s,]+/).filter(Boolean)

  it('is a permissioned devnet of 5 nodes, 3 producers whose keys init puts in the genesis', () => {
    expect(nodes).toHaveLength(5)
    const producing = nodes.filter((n) => compose.services[n]!.command?.includes('--produce'))
    expect(producing).toHaveLength(3)
    expect(list(init.environment?.DEVNET_NODES)).toEqual(nodes)
    expect(list(init.environment?.DEVNET_PRODUCERS)).toEqual(producing)
    for (const node of nodes) {
      const service = compose.services[node]!
      // The data volume init gave a key is the one the node runs on; the genesis is shared.
      expect(init.volumes).toContain(`${node}:/devnet/nodes/${node}`)
      expect(service.volumes).toEqual([`${node}:/data`, 'genesis:/etc/chronos:ro'])
      expect(service.environment?.CHRONOS_ADVERTISE).toBe(`${node}:7000`)
      expect(service.depends_on).toEqual({ init: { condition: 'service_completed_successfully' } })
      for (const peer of list(service.environment?.CHRONOS_PEERS))
        expect(nodes.map((n) => `${n}:7000`)).toContain(peer)
    }
  })

  it('has the bridge watch every node over P2P and its API', () => {
    const watched = compose.services
      .bridge!.command!.filter((arg) => arg.startsWith('--node='))
      .map((arg) => arg.slice('--node='.length))
    expect(watched).toEqual(nodes.map((n) => `${n}:7000@${n}:7100`))
  })
})

describe('deploy/kubernetes', () => {
  const set = parse(read('deploy/kubernetes/statefulset.yaml'))
  const service = parse(read('deploy/kubernetes/service.yaml'))
  const bridge = parseAllDocuments(read('deploy/kubernetes/bridge.yaml')).map((d) => d.toJS())
  const container = set.spec.template.spec.containers[0]
  const env = Object.fromEntries(
    container.env.map((v: { name: string; value?: string }) => [v.name, v.value]),
  )

  it('names pods through the headless Service the bootstrap addresses use, ready or not', () => {
    expect(service.spec.clusterIP).toBe('None')
    expect(service.spec.publishNotReadyAddresses).toBe(true)
    expect(set.spec.serviceName).toBe(service.metadata.name)
    const podName = set.spec.template.metadata.labels['app.kubernetes.io/name']
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': podName })
    const names = Array.from({ length: set.spec.replicas }, (_, i) => `${set.metadata.name}-${i}`)
    for (const peer of env.CHRONOS_PEERS.split(' '))
      expect(names.map((n) => `${n}.${service.metadata.name}:7000`)).toContain(peer)
    expect(env.CHRONOS_ADVERTISE).toBe(`$(POD_NAME).${service.metadata.name}:7000`)
  })

  it('probes readiness on /ready and liveness on /status, with resources and limits', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/ready')
    expect(container.livenessProbe.httpGet.path).toBe('/status')
    expect(container.resources.requests).toBeDefined()
    expect(container.resources.limits).toBeDefined()
    expect(set.spec.volumeClaimTemplates[0].metadata.name).toBe('data')
  })

  it('has the bridge watch every StatefulSet pod', () => {
    const deployment = bridge.find((d) => d.kind === 'Deployment')
    const names = Array.from({ length: set.spec.replicas }, (_, i) => `${set.metadata.name}-${i}`)
    const watched = deployment.spec.template.spec.containers[0].args.filter((a: string) =>
      a.startsWith('--node='),
    )
    expect(watched).toEqual(names.map((n) => `--node=${n}.chronos:7000@${n}.chronos:7100`))
    expect(bridge.find((d) => d.kind === 'Service')).toBeDefined()
  })
})
