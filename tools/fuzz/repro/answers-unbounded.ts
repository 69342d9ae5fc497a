// Deterministic reproducer of the fuzz finding "answers-unbounded" (docs/FUZZING.md):
// behind one slow answer, SHAKEHAND answers pile up without ever pausing reading.
//   pnpm --filter @chronos/fuzz exec tsx --conditions=@chronos/source repro/answers-unbounded.ts
// Prints the answers held after 10,000 SHAKEHANDs; exits 1 while the bug is there.
import { readNetworkParams, silentLogger } from '@chronos/codec'
import { DEFAULT_SESSION_LIMITS } from '@chronos/peer'
// The sessions are internal to @chronos/peer (exported as types only): the fuzzer drives their source.
import { ServerSession } from '../../../packages/peer/src/server-session.js'
import { FuzzConnection, ourStatus } from '../src/harness.js'
import { genesisBlocks, genesisHash } from '../src/vectors.js'

const maxPendingAnswers = 8
const connection = new FuzzConnection('inbound')
const session = new ServerSession(
  connection,
  {
    localStatus: ourStatus,
    genesisHash,
    network: readNetworkParams(genesisBlocks()[0]),
    identity: undefined,
    requireIdentity: false,
    now: Date.now,
    peerExchange: undefined,
    logger: silentLogger,
    limits: { ...DEFAULT_SESSION_LIMITS, maxPendingAnswers },
  },
  // A PULL_BLOCK whose answer never comes (a slow disk read stands for it).
  { pull: () => new Promise(() => {}), newBlock() {}, newBlockHash: () => 'known' },
)
const status = { timestamp: Date.now(), height: 0, address: '127.0.0.1:9' }
connection.deliver({ code: 'SHAKEHAND', data: { ...status, genesis: genesisHash } })
connection.deliver({ code: 'PULL_BLOCK', data: 1 })
let delivered = 0
while (delivered < 10_000 && !connection.readingPaused) {
  connection.deliver({ code: 'SHAKEHAND', data: status })
  delivered++
}
const held = session.pendingAnswers
console.log({ delivered, held, maxPendingAnswers, readingPaused: connection.readingPaused })
connection.close()
process.exit(held > maxPendingAnswers ? 1 : 0)
