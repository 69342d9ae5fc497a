// Real nodes for the bridge's tests: in-memory chains, TCP on loopback,
// quick status beats so that views follow within a fraction of a round.
import type { Block } from '@chronos/codec'
import { ChronosNode, resolveConfig } from '@chronos/node'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'

/** A started node of `genesis` that dials `peers`; the caller stops it. */
export async function startNode(
  genesis: Block,
  options: { peers?: string[]; produce?: boolean; txRate?: number; api?: string } = {},
): Promise<ChronosNode> {
  const config = resolveConfig(
    {},
    {
      data: '(memory)',
      genesis: '(memory)',
      listen: '127.0.0.1:0',
      peers: options.peers ?? [],
      produce: options.produce ?? true,
      txRate: options.txRate ?? 10,
      limits: { statusIntervalMs: 250 },
      api: options.api,
    },
  )
  const node = await ChronosNode.open({
    config,
    genesis,
    logger: pino({ level: 'silent' }),
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  await node.start()
  return node
}
