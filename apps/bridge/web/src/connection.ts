import {
  BRIDGE_PROTOCOL_VERSION,
  type ServerMessage,
  serverMessageSchema,
} from '../../src/protocol.ts'
import { type SequenceState, sequence } from './sequence.ts'

/**
 * The page's WebSocket to the bridge: subscribes on open, validates every
 * message, checks `seq` (a gap resubscribes for a fresh snapshot), pings to
 * keep the link honest, and reconnects with backoff when the bridge restarts.
 */
export function connect(
  onMessage: (m: ServerMessage) => void,
  onStatus: (up: boolean) => void,
): () => void {
  let socket: WebSocket | undefined
  let retry = 500
  let stopped = false
  let ping: number | undefined
  let seq = 0
  let stream: SequenceState = { kind: 'waiting' }
  const send = (message: object) =>
    socket?.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, seq: ++seq, ...message }))
  const open = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`)
    stream = { kind: 'waiting' }
    socket.onopen = () => {
      retry = 500
      onStatus(true)
      send({ type: 'subscribe' })
      ping = window.setInterval(() => send({ type: 'ping', data: { t: Date.now() } }), 10_000)
    }
    socket.onmessage = (event) => {
      const parsed = serverMessageSchema.safeParse(JSON.parse(String(event.data)))
      if (!parsed.success) {
        console.warn('bridge sent an invalid message', parsed.error.issues[0])
        return
      }
      const step = sequence(stream, parsed.data)
      stream = step.state
      if (step.verdict === 'apply') onMessage(parsed.data)
      if (step.verdict === 'resubscribe') {
        console.warn('bridge updates skipped a seq: asking for a new snapshot')
        document.documentElement.dataset.resyncs = String(
          Number(document.documentElement.dataset.resyncs ?? 0) + 1,
        )
        send({ type: 'subscribe' })
      }
    }
    socket.onclose = () => {
      window.clearInterval(ping)
      onStatus(false)
      if (stopped) return
      window.setTimeout(open, retry)
      retry = Math.min(10_000, retry * 2)
    }
  }
  open()
  return () => {
    stopped = true
    socket?.close()
  }
}
