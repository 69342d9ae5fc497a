import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { run, stopChildren } from './cli-process.js'
import { tempDir } from './network.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  stopChildren()
  for (const cleanup of cleanups.splice(0)) cleanup()
})

async function json(url: string, init?: RequestInit) {
  const response = await fetch(url, init)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('chronos-node CLI', () => {
  it('prints a genesis block, runs a node with an API, and shuts down cleanly on SIGTERM', async () => {
    const dir = tempDir('chronos-cli-')
    cleanups.push(dir.remove)
    const genesisRun = run(['genesis', '--network', 'cli-test', '--round-ms', '200'])
    expect(await genesisRun.exited).toBe(0)
    const genesis = JSON.parse(genesisRun.output().stdout)
    expect(genesis.block_header.height).toBe(0)
    const genesisFile = join(dir.path, 'genesis.json')
    writeFileSync(genesisFile, genesisRun.output().stdout)

    const node = run([
      'start',
      '--data',
      join(dir.path, 'data'),
      '--genesis',
      genesisFile,
      '--listen',
      '127.0.0.1:0',
      '--api',
      '127.0.0.1:0',
      '--produce',
      '--tx-rate',
      '10',
      '--log-level',
      'debug',
    ])
    const api = String((await node.logLine((l) => l.msg === 'API listening')).api)

    const tx = await json(`${api}/tx`, {
      method: 'POST',
      body: JSON.stringify({ from: 'alice', to: 'bob', amount: 5, nonce: 1 }),
    })
    expect(tx.status).toBe(202)
    expect(tx.body.id).toMatch(/^[0-9a-f]{64}$/)
    expect((await json(`${api}/tx`, { method: 'POST', body: '[1]' })).status).toBe(400)
    expect((await json(`${api}/tx`, { method: 'POST', body: '{' })).body.error).toBe('INVALID_JSON')

    // A transaction posted during round r is packed at the start of r+1 and confirmed at its end.
    const postedAt = (await json(`${api}/status`)).body.height as number
    await node.logLine((l) => l.msg === 'block confirmed' && (l.height as number) >= postedAt + 2)
    const status = await json(`${api}/status`)
    expect(status.body).toMatchObject({
      genesis: genesis.block_header.hash,
      producing: true,
      mempool: 0,
    })
    const block = await json(`${api}/blocks/1`)
    expect(block.body.block_header).toMatchObject({ height: 1 })
    expect((await json(`${api}/blocks/999999`)).status).toBe(404)
    const seen = (await (await fetch(`${api}/observations?after=0`)).json()) as {
      kind: string
      seq: number
    }[]
    expect(seen.map((o) => o.kind)).toContain('produced')
    expect(seen.map((o) => o.kind)).toContain('confirmed')
    const metrics = await (await fetch(`${api}/metrics`)).text()
    expect(metrics).toMatch(/^chronos_height \d+/m)
    expect(metrics).toMatch(/^chronos_blocks_produced_total \d+/m)

    node.child.kill('SIGTERM')
    expect(await node.exited).toBe(0)
    expect(node.output().stdout).toContain('"msg":"node stopped"')
  })

  it('refuses an invalid configuration with a clear message and exit code 2', async () => {
    const dir = tempDir('chronos-cli-')
    cleanups.push(dir.remove)
    const config = join(dir.path, 'config.json')
    writeFileSync(config, JSON.stringify({ listen: 'nowhere', produce: 'yes' }))
    const node = run(['start', '--config', config, '--data', dir.path, '--genesis', config])
    expect(await node.exited).toBe(2)
    expect(node.output().stderr).toMatch(/listen/)
    expect(node.output().stderr).toMatch(/produce/)
  })
})
