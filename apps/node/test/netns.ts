// Network namespaces joined by links, for multi-host tests (Linux, as root).
// Two bridges in a "switch" namespace, one per half of the nodes, joined by
// one link that a test takes down to partition the network. Every node's link
// can be shaped with latency and loss: by tc netem where the kernel has it,
// else by a user-space link emulator (link-emulator.py) over TAP devices.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString()
const emulatorScript = fileURLToPath(new URL('./link-emulator.py', import.meta.url))

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

/** Latency and loss on a node's link, applied to what the node sends (as netem on its egress). */
export interface LinkShape {
  delayMs: number
  /** Uniform, ± around delayMs. */
  jitterMs: number
  lossPercent: number
}

export type Shaper =
  | { kind: 'netem' }
  /** User-space emulation, with the reason netem could not be used. */
  | { kind: 'emulator'; why: string }
  | { kind: 'none'; why: string }

/** How links can be shaped on this machine: netem first, then the user-space emulator. */
export function chooseShaper(): Shaper {
  const noNetem = netemUnavailable()
  if (!noNetem) return { kind: 'netem' }
  const noEmulator = emulatorUnavailable()
  if (!noEmulator) return { kind: 'emulator', why: noNetem }
  return { kind: 'none', why: `${noNetem}; ${noEmulator}` }
}

function netemUnavailable(): string | undefined {
  const probe = `chrnetem${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('-n', probe, 'link', 'set', 'lo', 'up')
    const shape = ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem']
    execFileSync('ip', [...shape, 'delay', '1ms'], { stdio: 'pipe' })
    return undefined
  } catch (error) {
    return `tc netem failed: ${(error as Error & { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`
  } finally {
    try {
      ip('netns', 'del', probe)
    } catch {}
  }
}

/** Runs the emulator once on a TAP pair in a probe namespace: what fails here fails with a reason. */
function emulatorUnavailable(): string | undefined {
  const probe = `chrtap${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('-n', probe, 'tuntap', 'add', 'mode', 'tap', 'name', 'tapa')
    ip('-n', probe, 'tuntap', 'add', 'mode', 'tap', 'name', 'tapb')
    const attach = [emulatorScript, '--check', '--delay-ms', '1', `${probe}:tapa`, `${probe}:tapb`]
    execFileSync('python3', attach, { stdio: 'pipe' })
    return undefined
  } catch (error) {
    const { stderr } = error as Error & { stderr?: Buffer }
    const why = stderr?.toString().trim().split('\n').at(-1) || (error as Error).message
    return `the user-space emulator cannot run: ${why}`
  } finally {
    try {
      ip('netns', 'del', probe)
    } catch {}
  }
}

/** What the shaping did so far, summed over every node's link. */
export interface ShapingCounters {
  /** Frames the shaper saw leave nodes, dropped ones included. */
  shaped: number
  dropped: number
}

export interface Topology {
  namespaces: string[]
  addresses: string[]
  shaper: Shaper['kind']
  partition(): void
  heal(): void
  counters(): Promise<ShapingCounters>
  destroy(): void
}

/**
 * `count` node namespaces, the first half on bridge A, the rest on bridge B;
 * `shape` is applied to every node's link when given, `by` netem or the emulator.
 */
export async function buildTopology(
  count: number,
  shape?: { link: LinkShape; by: 'netem' | 'emulator' },
): Promise<Topology> {
  const tag = (process.pid % 10_000).toString()
  const sw = `chr${tag}sw`
  const namespaces = Array.from({ length: count }, (_, i) => `chr${tag}n${i}`)
  const addresses = namespaces.map((_, i) => `10.77.0.${i + 1}`)
  const links = namespaces.map((ns, i) => ({ ns, inner: `c${tag}v${i}`, outer: `c${tag}s${i}` }))
  const shaper = shape?.by ?? 'none'
  let emulator: Emulator | undefined
  const destroy = () => {
    emulator?.child.kill('SIGTERM')
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
    links.forEach(({ ns, inner, outer }, i) => {
      ip('netns', 'add', ns)
      if (shaper === 'emulator') {
        // Two TAPs, one each side, that the emulator joins as a wire would.
        ip('-n', ns, 'tuntap', 'add', 'mode', 'tap', 'name', inner)
        ip('-n', sw, 'tuntap', 'add', 'mode', 'tap', 'name', outer)
      } else {
        ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer)
        ip('link', 'set', inner, 'netns', ns)
        ip('link', 'set', outer, 'netns', sw)
      }
      ip('-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', inner)
      ip('-n', ns, 'link', 'set', inner, 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', sw, 'link', 'set', outer, 'master', i < count / 2 ? 'bra' : 'brb', 'up')
      if (shape?.by === 'netem') {
        const { delayMs, jitterMs, lossPercent } = shape.link
        const qdisc = ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', inner, 'root', 'netem']
        qdisc.push('delay', `${delayMs}ms`, `${jitterMs}ms`, 'loss', `${lossPercent}%`)
        execFileSync('ip', qdisc, { stdio: 'pipe' })
      }
    })
    if (shape?.by === 'emulator') emulator = await startEmulator(shape.link, links, sw)
  } catch (error) {
    destroy()
    throw error
  }
  return {
    namespaces,
    addresses,
    shaper,
    partition: () => ip('-n', sw, 'link', 'set', 'ab0', 'down'),
    heal: () => ip('-n', sw, 'link', 'set', 'ab0', 'up'),
    counters: async () => {
      if (emulator) return emulatorCounters(emulator)
      return shaper === 'netem' ? netemCounters(links) : { shaped: 0, dropped: 0 }
    },
    destroy,
  }
}

interface Emulator {
  child: ChildProcess
  lines: Interface
}

async function startEmulator(
  link: LinkShape,
  links: { ns: string; inner: string; outer: string }[],
  sw: string,
): Promise<Emulator> {
  const args = [emulatorScript, '--delay-ms', `${link.delayMs}`, '--jitter-ms', `${link.jitterMs}`]
  args.push('--loss', `${link.lossPercent / 100}`, '--seed', '1')
  for (const { ns, inner, outer } of links) args.push(`${ns}:${inner}`, `${sw}:${outer}`)
  const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const lines = createInterface({ input: child.stdout! })
  const exited = once(child, 'exit').then(() => {
    throw new Error(`link emulator exited: ${stderr.trim()}`)
  })
  await Promise.race([once(lines, 'line'), exited])
  exited.catch(() => {})
  return { child, lines }
}

/** The emulator prints its counters as a JSON line on SIGUSR1. */
async function emulatorCounters({ child, lines }: Emulator): Promise<ShapingCounters> {
  const line = once(lines, 'line')
  child.kill('SIGUSR1')
  const [text] = (await line) as [string]
  const { shaped, dropped } = JSON.parse(text) as ShapingCounters
  return { shaped, dropped }
}

/** From `tc -s qdisc`: "Sent B bytes P pkt (dropped D, ...". */
function netemCounters(links: { ns: string; inner: string }[]): ShapingCounters {
  const total = { shaped: 0, dropped: 0 }
  for (const { ns, inner } of links) {
    const stats = ip('-n', ns, '-s', 'qdisc', 'show', 'dev', inner)
    const match = /Sent \d+ bytes (\d+) pkt \(dropped (\d+)/.exec(stats)
    if (!match) continue
    total.shaped += Number(match[1]) + Number(match[2])
    total.dropped += Number(match[2])
  }
  return total
}
