import { render } from 'preact'
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks'
import type { ServerMessage } from '../../src/protocol.ts'
import { BlockFeed, Events } from './Blocks.tsx'
import { BlockTimes, Cdf, Histogram } from './Charts.tsx'
import { connect } from './connection.ts'
import { NodeTable } from './NodeTable.tsx'
import { SummaryBar } from './Summary.tsx'
import { apply, emptyState } from './state.ts'
import { confirmedChain, summarize } from './stats.ts'
import { Topology } from './Topology.tsx'
import './styles.css'

function App() {
  const [state, dispatch] = useReducer((s, m: ServerMessage) => apply(s, m), undefined, emptyState)
  const [connected, setConnected] = useState(false)
  const [now, setNow] = useState(Date.now())
  const [selected, setSelected] = useState<string | undefined>()
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
  const chain = useMemo(() => confirmedChain(state.blocks.values()), [state.blocks])
  const summary = useMemo(() => summarize(nodes, chain), [nodes, chain])
  // The block the path and CDF show: the one clicked, else the latest.
  const shown = (selected && state.blocks.get(selected)) || blocks[0]
  const latestConfirmed = (selected && state.blocks.get(selected)) || chain.at(-1)
  return (
    <>
      <header>
        <h1>Chronos network{state.network.network ? ` · ${state.network.network}` : ''}</h1>
        <span class={`status ${connected ? '' : 'down'}`} id="connection">
          {connected
            ? `live · ${summary.up}/${nodes.length} nodes up`
            : 'reconnecting to the bridge…'}
        </span>
      </header>
      <SummaryBar summary={summary} network={state.network} now={now} />
      <main>
        <section class="nodes">
          <h2>Nodes</h2>
          <NodeTable nodes={nodes} now={now} inTurn={state.network.inTurn} />
        </section>
        <section class="topology">
          <h2>Topology and block {shown ? `#${shown.height ?? '?'}` : ''}'s path</h2>
          <Topology nodes={nodes} edges={state.edges} latest={shown} />
        </section>
        <section class="blocks">
          <h2>Blocks (time to reach 50 / 90 / 100 % of nodes; click one to show it)</h2>
          <BlockFeed blocks={blocks} selected={shown?.hash} onSelect={setSelected} />
        </section>
        <section class="charts">
          <h2>First seen by share of nodes (CDF)</h2>
          <Cdf block={latestConfirmed} nodes={summary.up} />
          <h2>Propagation of confirmed blocks</h2>
          <Histogram chain={chain} />
          <h2>Block time</h2>
          <BlockTimes chain={chain} />
          <h2>Forks and reorgs</h2>
          <Events events={state.events} />
        </section>
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
