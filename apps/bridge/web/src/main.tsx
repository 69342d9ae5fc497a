import { render } from 'preact'
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks'
import type { ServerMessage } from '../../src/protocol.ts'
import { BlockFeed, Events, Histogram } from './Blocks.tsx'
import { connect } from './connection.ts'
import { NodeTable } from './NodeTable.tsx'
import { apply, emptyState } from './state.ts'
import { Topology } from './Topology.tsx'
import './styles.css'

function App() {
  const [state, dispatch] = useReducer((s, m: ServerMessage) => apply(s, m), undefined, emptyState)
  const [connected, setConnected] = useState(false)
  const [now, setNow] = useState(Date.now())
  useEffect(() => connect(dispatch, setConnected), [])
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000)
    return () => window.clearInterval(timer)
  }, [])
  const nodes = useMemo(() => [...state.nodes.values()], [state.nodes])
  const blocks = useMemo(
    () =>
      [...state.blocks.values()].sort(
        (a, b) => (b.height ?? 0) - (a.height ?? 0) || b.firstSeen - a.firstSeen,
      ),
    [state.blocks],
  )
  const up = nodes.filter((n) => n.up).length
  return (
    <>
      <header>
        <h1>Chronos network</h1>
        <span class={`status ${connected ? '' : 'down'}`} id="connection">
          {connected ? `live · ${up}/${nodes.length} nodes up` : 'reconnecting to the bridge…'}
        </span>
      </header>
      <main>
        <section>
          <h2>Nodes</h2>
          <NodeTable nodes={nodes} now={now} />
        </section>
        <section>
          <h2>Topology and the latest block's path</h2>
          <Topology nodes={nodes} edges={state.edges} latest={blocks[0]} />
        </section>
        <section>
          <h2>Blocks (time to reach 50 / 90 / 100 % of nodes)</h2>
          <BlockFeed blocks={blocks} />
        </section>
        <section>
          <h2>Propagation</h2>
          <Histogram blocks={blocks} />
          <h2>Forks and reorgs</h2>
          <Events events={state.events} />
        </section>
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
