// Refreshes the verbatim copy of the shared protocol test vectors. The copy is
// data: it is never edited by hand, only replaced by this script.
import { copyFileSync, existsSync } from 'node:fs'

const source = new URL('../../shared/protocol/vectors.json', import.meta.url)
const target = new URL('../packages/codec/test/fixtures/vectors.json', import.meta.url)
if (!existsSync(source)) {
  console.error(`no shared vectors at ${source.pathname}`)
  process.exit(1)
}
copyFileSync(source, target)
console.log(`copied ${source.pathname} -> ${target.pathname}`)
