// The identity commands as a user runs them: keys in the data directory,
// key files for provisioning, a permissioned genesis, and a refusal to
// produce with an unlisted key.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { run, stopChildren } from './cli-process.js'
import { tempDir } from './network.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  stopChildren()
  for (const cleanup of cleanups.splice(0)) cleanup()
})

describe('chronos-node key and genesis --producer', () => {
  it('creates a node key in the data dir (mode 0600, inspectable JSON) and prints the same key again', async () => {
    const dir = tempDir('chronos-key-')
    cleanups.push(dir.remove)
    const first = run(['key', '--data', dir.path])
    expect(await first.exited).toBe(0)
    const key = first.output().stdout.trim()
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    const file = join(dir.path, 'node-key.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      type: 'chronos/ed25519',
      publicKey: key,
    })
    const again = run(['key', '--data', dir.path])
    expect(await again.exited).toBe(0)
    expect(again.output().stdout.trim()).toBe(key)
  })

  it('writes a permissioned genesis listing producers in order, and a node with an unlisted key refuses to produce', async () => {
    const dir = tempDir('chronos-poa-')
    cleanups.push(dir.remove)
    const keys: string[] = []
    for (const name of ['p1.json', 'p2.json']) {
      const made = run(['key', '--out', join(dir.path, name)])
      expect(await made.exited).toBe(0)
      keys.push(made.output().stdout.trim())
    }
    const genesisFile = join(dir.path, 'genesis.json')
    const genesisRun = run([
      'genesis',
      '--network',
      'poa',
      '--round-ms',
      '500',
      '--producer',
      keys[0]!,
      '--producer',
      keys[1]!,
      '--out',
      genesisFile,
    ])
    expect(await genesisRun.exited).toBe(0)
    expect(genesisRun.output().stdout).toBe('')
    const genesis = JSON.parse(readFileSync(genesisFile, 'utf8'))
    expect(genesis.transactions[0].producers).toEqual(keys)
    // The node's own key (created in its data dir) is not listed.
    const node = run([
      'start',
      '--data',
      join(dir.path, 'outsider'),
      '--genesis',
      genesisFile,
      '--listen',
      '127.0.0.1:0',
      '--produce',
    ])
    expect(await node.exited).not.toBe(0)
    expect(node.output().stderr).toMatch(/not one of its producers/)
    // With a listed producer key it starts producing.
    const producer = run([
      'start',
      '--data',
      join(dir.path, 'p1'),
      '--genesis',
      genesisFile,
      '--listen',
      '127.0.0.1:0',
      '--produce',
      '--producer-key',
      join(dir.path, 'p1.json'),
      '--log-level',
      'debug',
    ])
    const produced = await producer.logLine((line) => line.msg === 'block confirmed')
    expect(produced.producer).toBe(keys[0])
  })
})
