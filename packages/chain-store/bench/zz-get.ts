import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { blockKey } from '../src/keys.js'
import { openChainStore } from '../src/index.js'
import { buildChain, genesis } from '../test/chains.js'
const chain = buildChain(genesis, 10000, { transactions: 20 })
const dir = await mkdtemp(join(tmpdir(), 'zzget-'))
const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
const store = await openChainStore({ genesis, db: db as any })
await store.reorg(0, chain)
for (let r = 0; r < 3; r++) {
  let c0 = process.cpuUsage()
  for (let h = 1; h <= 10000; h++) await db.get(blockKey(h))
  let c = process.cpuUsage(c0); const a = (c.user + c.system) / 1000
  c0 = process.cpuUsage()
  for (let h = 1; h <= 10000; h++) { db.getSync(blockKey(h)); await undefined }
  c = process.cpuUsage(c0); const b = (c.user + c.system) / 1000
  c0 = process.cpuUsage()
  for (let h = 1; h <= 10000; h++) JSON.parse(db.getSync(blockKey(h))!)
  c = process.cpuUsage(c0)
  console.log('get', a, 'getSync', b, 'getSync+parse', (c.user + c.system) / 1000)
}
