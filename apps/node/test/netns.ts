// Network namespaces joined by veth links, for multi-host tests (Linux, as
// root). Two bridges in a "switch" namespace, one per half of the nodes,
// joined by one link that a test takes down to partition the network.
import { execFileSync } from 'node:child_process'

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString()

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'not root'
  const probe = `chrprobe${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('netns', 'del', probe)
  } catch (error) {
    return `ip netns failed: ${(error as Error).message.split('\n')[0]}`
  }
  try {
    execFileSync('tc', ['-V'], { stdio: 'pipe' })
  } catch {
    return 'tc (iproute2) is missing'
  }
  return undefined
}

/** Why tc netem cannot shape links here (e.g. a kernel without sch_netem), or undefined. */
export function netemUnavailable(): string | undefined {
  const probe = `chrnetem${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('-n', probe, 'link', 'set', 'lo', 'up')
    execFileSync(
      'ip',
      ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
      {
        stdio: 'pipe',
      },
    )
    return undefined
  } catch (error) {
    return `tc netem failed: ${(error as Error & { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`
  } finally {
    try {
      ip('netns', 'del', probe)
    } catch {}
  }
}

export interface Topology {
  namespaces: string[]
  addresses: string[]
  partition(): void
  heal(): void
  destroy(): void
}

/**
 * `count` node namespaces, the first half on bridge A, the rest on bridge
 * B; `netem` (e.g. delay and loss) shapes every node's link when given.
 */
export function buildTopology(count: number, netem: string[] | undefined): Topology {
  const tag = (process.pid % 10_000).toString()
  const sw = `chr${tag}sw`
  const namespaces = Array.from({ length: count }, (_, i) => `chr${tag}n${i}`)
  const addresses = namespaces.map((_, i) => `10.77.0.${i + 1}`)
  const destroy = () => {
    for (const ns of [sw, ...namespaces]) {
      try {
        ip('netns', 'del', ns)
      } catch {}
    }
  }
  destroy()
  try {
    ip('netns', 'add', sw)
    for (const bridge of ['bra', 'brb']) {
      ip('-n', sw, 'link', 'add', bridge, 'type', 'bridge')
      ip('-n', sw, 'link', 'set', bridge, 'up')
    }
    ip('-n', sw, 'link', 'add', 'ab0', 'type', 'veth', 'peer', 'name', 'ab1')
    ip('-n', sw, 'link', 'set', 'ab0', 'master', 'bra', 'up')
    ip('-n', sw, 'link', 'set', 'ab1', 'master', 'brb', 'up')
    namespaces.forEach((ns, i) => {
      ip('netns', 'add', ns)
      const [inner, outer] = [`c${tag}v${i}`, `c${tag}s${i}`]
      ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer)
      ip('link', 'set', inner, 'netns', ns)
      ip('link', 'set', outer, 'netns', sw)
      ip('-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', inner)
      ip('-n', ns, 'link', 'set', inner, 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', sw, 'link', 'set', outer, 'master', i < count / 2 ? 'bra' : 'brb', 'up')
      if (netem) {
        const shape = ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', inner, 'root', 'netem']
        execFileSync('ip', [...shape, ...netem])
      }
    })
  } catch (error) {
    destroy()
    throw error
  }
  return {
    namespaces,
    addresses,
    partition: () => ip('-n', sw, 'link', 'set', 'ab0', 'down'),
    heal: () => ip('-n', sw, 'link', 'set', 'ab0', 'up'),
    destroy,
  }
}
