/**
 * Target: a ClientSession (we are the Client) making fuzzer-chosen requests
 * (handshake, status beats, pulls, announcements, blocks) against a Server
 * played by the fuzzer, which answers with fuzzed messages, reads or not,
 * and hangs up. Oracle: nothing thrown out of the session, no unhandled
 * rejection; every request settles (an answer of the right type, or a typed
 * rejection) once the connection is closed; a close only for a known reason
 * with a typed error; what we send is accepted by the codec; requests in
 * flight stay within maxPendingRequests.
 */
import { ChronosError } from '@chronos/codec'
// The sessions are internal to @chronos/peer (exported as types only): the fuzzer drives their source.
import { ClientSession } from '../../../../packages/peer/src/client-session.js'
import { ByteSource } from '../bytes.js'
import { check, describe, FuzzFinding, throwIfEscaped, watchEscapes } from '../finding.js'
import {
  checkClose,
  checkSent,
  FuzzConnection,
  sendableBlocks,
  sendableHashes,
  sessionContext,
  turn,
  wireMessage,
} from '../harness.js'

const MAX_PENDING = 16

export async function fuzz(data: Uint8Array): Promise<void> {
  watchEscapes()
  const source = new ByteSource(data)
  const connection = new FuzzConnection('outbound')
  const session = new ClientSession(
    connection,
    sessionContext(source, { maxPendingRequests: MAX_PENDING }),
  )
  const blocks = sendableBlocks()
  const hashes = sendableHashes()
  let unsettled = 0
  const problems: string[] = []
  function track<T>(what: string, request: Promise<T>, valid: (value: T) => boolean): void {
    unsettled++
    request.then(
      (value) => {
        unsettled--
        if (!valid(value)) problems.push(`${what} resolved with ${JSON.stringify(value)}`)
      },
      (error: unknown) => {
        unsettled--
        if (!(error instanceof ChronosError))
          problems.push(`${what} rejected with untyped ${describe(error)}`)
      },
    )
  }
  const isStatus = (s: { address?: unknown }) => typeof s?.address === 'string'
  for (let step = 0; step < 64 && source.remaining > 0; step++) {
    const op = source.int(9)
    if (op === 0) track('handshake', session.handshake(), (r) => isStatus(r.status))
    else if (op === 1) track('shakehand', session.shakehand(), isStatus)
    else if (op === 2) {
      const height = source.int(6)
      track(
        `pull(${height})`,
        session.pull(height),
        (b) => b === null || b.block_header.height === height,
      )
    } else if (op === 3) {
      track('announce', session.announce(source.pick(hashes)), (a) =>
        ['known', 'wanted'].includes(a),
      )
    } else if (op === 4) session.sendBlock(source.pick(blocks))
    else if (op === 5) session.beat()
    else if (op <= 7 && connection.status === 'open' && !connection.readingPaused) {
      const message = wireMessage(source)
      if (message) connection.deliver(message)
    } else if (op === 8) connection.drainAll()
    else if (op === 9) {
      if (source.bool()) connection.hangUp()
      else await turn()
    }
    check(
      session.waiting <= MAX_PENDING,
      `${session.waiting} requests in flight, over ${MAX_PENDING}`,
    )
  }
  await turn()
  const closedEarly = connection.status === 'closed'
  session.close('LOCAL_CLOSE')
  const info = await connection.closed
  if (closedEarly) checkClose(info)
  await turn()
  check(unsettled === 0, `${unsettled} requests never settled after the connection closed`)
  if (problems.length > 0) throw new FuzzFinding(problems.join('; '))
  checkSent(connection.sent)
  throwIfEscaped('ClientSession')
}
