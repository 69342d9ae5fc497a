import {
  BRIDGE_PROTOCOL_VERSION,
  type ServerMessage,
  serverMessageSchema,
} from '../../src/protocol.ts'

/**
 * The page's WebSocket to the bridge: subscribes on open, validates every
 * message, pings to keep the link honest, and reconnects with backoff when
 * the bridge restarts.
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
  const open = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`)
    socket.onopen = () => {
      retry = 500
      onStatus(true)
      socket?.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'subscribe', seq: ++seq }))
      ping = window.setInterval(
        () =>
          socket?.send(
            JSON.stringify({
              v: BRIDGE_PROTOCOL_VERSION,
              type: 'ping',
              seq: ++seq,
              data: { t: Date.now() },
            }),
          ),
        10_000,
      )
    }
    socket.onmessage = (event) => {
      const parsed = serverMessageSchema.safeParse(JSON.parse(String(event.data)))
      if (parsed.success) onMessage(parsed.data)
      else console.warn('bridge sent an invalid message', parsed.error.issues[0])
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
