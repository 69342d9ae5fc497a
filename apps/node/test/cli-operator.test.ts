// The CLI as an operator meets it: real processes, real ports, real LevelDB.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { run, stopChildren } from './cli-process.js'
import { tempDir } from './network.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  stopChildren()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

function scratch(): string {
  const dir = tempDir('chronos-operator-')
  cleanups.push(dir.remove)
  return dir.path
}

async function genesisFile(dir: string): Promise<string> {
  const file = join(dir, 'genesis.json')
  const made = run(['genesis', '--network', 'operator', '--round-ms', '200', '--out', file])
  expect(await made.exited).toBe(0)
  return file
}

/** A loopback TCP server that counts the connections it gets. */
async function listener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0
  const server = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port, connections: () => connections }
}

const status = async (api: string) =>
  (await (await fetch(`${api}/status`)).json()) as Record<string, unknown>

describe('chronos-node for operators', () => {
  it('genesis --out writes the block to the file and prints nothing', async () => {
    const dir = scratch()
    const file = join(dir, 'genesis.json')
    const made = run(['genesis', '--network', 'out-test', '--round-ms', '500', '--out', file])
    expect(await made.exited).toBe(0)
    expect(made.output().stdout).toBe('')
    const block = JSON.parse(readFileSync(file, 'utf8'))
    expect(block.block_header.height).toBe(0)
    expect(block.transactions[0]).toMatchObject({ network: 'out-test', round_ms: 500 })
  })

  it('--version prints the package version; start --help shows each default and variable', async () => {
    const version = run(['--version'])
    expect(await version.exited).toBe(0)
    expect(version.output().stdout.trim()).toBe(manifest.version)
    const help = run(['start', '--help'])
    expect(await help.exited).toBe(0)
    const text = help.output().stdout.replace(/\s+/g, ' ')
    expect(text).toContain('--max-peers <n> peers we dial (default: 16; env: CHRONOS_MAX_PEERS)')
    expect(text).toContain('(default: 2000; env: CHRONOS_STATUS_INTERVAL_MS)')
    expect(text).toContain('(default: "info"; env: CHRONOS_LOG_LEVEL)')
    expect(text).toContain('flags > CHRONOS_* environment > --config file > defaults')
  })

  it('takes settings from flags over CHRONOS_* over the config file, and config paths relative to the file', async () => {
    const dir = scratch()
    const configDir = join(dir, 'etc')
    mkdirSync(configDir)
    await genesisFile(configDir)
    const config = join(configDir, 'node.json')
    // Relative paths, meant relative to etc/ whatever the working directory.
    writeFileSync(
      config,
      JSON.stringify({
        data: 'chain-data',
        genesis: 'genesis.json',
        listen: '127.0.0.1:0',
        produce: false,
        logLevel: 'warn',
      }),
    )
    const elsewhere = join(dir, 'elsewhere')
    mkdirSync(elsewhere)
    const node = run(['start', '--config', config, '--log-level', 'info'], [], {
      cwd: elsewhere,
      // produce: env over the file; logLevel: the flag over env and file; api: env alone.
      env: { CHRONOS_PRODUCE: 'true', CHRONOS_LOG_LEVEL: 'silent', CHRONOS_API: '127.0.0.1:0' },
    })
    const api = String((await node.logLine((l) => l.msg === 'API listening')).api)
    expect(await status(api)).toMatchObject({ producing: true })
    expect(existsSync(join(configDir, 'chain-data', 'chain'))).toBe(true)
    expect(existsSync(join(elsewhere, 'chain-data'))).toBe(false)
    node.child.kill('SIGTERM')
    expect(await node.exited).toBe(0)
  })

  it('refuses a CHRONOS_* variable that does not parse, naming it, with exit code 2', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const node = run(
      ['start', '--data', dir, '--genesis', genesis, '--listen', '127.0.0.1:0'],
      [],
      {
        env: { CHRONOS_MAX_PEERS: 'many', CHRONOS_PRODUCE: 'maybe' },
      },
    )
    expect(await node.exited).toBe(2)
    expect(node.output().stderr).toMatch(/CHRONOS_MAX_PEERS: .*integer/)
    expect(node.output().stderr).toMatch(/CHRONOS_PRODUCE: expected true or false/)
  })

  it('names each missing setting and the three places it can be given', async () => {
    const node = run(['start'])
    expect(await node.exited).toBe(2)
    const { stderr } = node.output()
    expect(stderr).toContain('data: required (give --data, CHRONOS_DATA or "data" in --config)')
    expect(stderr).toContain('genesis: required (give --genesis, CHRONOS_GENESIS')
    expect(stderr).toContain('listen: required (give --listen, CHRONOS_LISTEN')
  })

  it('says which chronos-node holds a data directory instead of "Database failed to open"', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const data = join(dir, 'data')
    const args = ['start', '--data', data, '--genesis', genesis, '--listen', '127.0.0.1:0']
    const first = run(args)
    await first.logLine((l) => l.msg === 'node started')
    const second = run(args)
    expect(await second.exited).toBe(1)
    expect(second.output().stderr).toContain(
      `data directory ${data} is in use by another chronos-node (pid ${first.child.pid})`,
    )
    // The first keeps running; once it stops, the directory is free again.
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const third = run(args)
    await third.logLine((l) => l.msg === 'node started')
    third.child.kill('SIGTERM')
    expect(await third.exited).toBe(0)
  })

  it('refuses a data directory written by a newer chronos-node, before opening it', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const data = join(dir, 'data')
    mkdirSync(data)
    writeFileSync(join(data, 'chronos-data.json'), '{"format": 99}\n')
    const node = run(['start', '--data', data, '--genesis', genesis, '--listen', '127.0.0.1:0'])
    expect(await node.exited).toBe(1)
    expect(node.output().stderr).toMatch(/has format 99, written by a newer chronos-node/)
    expect(existsSync(join(data, 'chain'))).toBe(false)
  })

  it('stamps a new data directory with its format', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const data = join(dir, 'data')
    const node = run(['start', '--data', data, '--genesis', genesis, '--listen', '127.0.0.1:0'])
    await node.logLine((l) => l.msg === 'node started')
    expect(JSON.parse(readFileSync(join(data, 'chronos-data.json'), 'utf8'))).toEqual({ format: 1 })
    node.child.kill('SIGTERM')
    expect(await node.exited).toBe(0)
  })

  it('fails on an API port in use before any P2P connection, naming --api', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const taken = await listener()
    // A configured peer: had P2P started, the node would have dialled it.
    const peer = await listener()
    const node = run([
      'start',
      '--data',
      join(dir, 'data'),
      '--genesis',
      genesis,
      '--listen',
      '127.0.0.1:0',
      '--peer',
      `127.0.0.1:${peer.port}`,
      '--api',
      `127.0.0.1:${taken.port}`,
    ])
    expect(await node.exited).toBe(1)
    expect(node.output().stderr).toContain(
      `--api 127.0.0.1:${taken.port}: address already in use (EADDRINUSE)`,
    )
    expect(node.output().stdout).not.toContain('"node started"')
    expect(peer.connections()).toBe(0)
    // It let go of its data directory on the way out.
    expect(existsSync(join(dir, 'data', 'chronos-node.pid'))).toBe(false)
  })

  it('names --listen when the P2P port is in use', async () => {
    const dir = scratch()
    const genesis = await genesisFile(dir)
    const taken = await listener()
    const node = run([
      'start',
      '--data',
      join(dir, 'data'),
      '--genesis',
      genesis,
      '--listen',
      `127.0.0.1:${taken.port}`,
    ])
    expect(await node.exited).toBe(1)
    expect(node.output().stderr).toContain(
      `--listen 127.0.0.1:${taken.port}: address already in use (EADDRINUSE)`,
    )
  })
})
