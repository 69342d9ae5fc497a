// A child process of scale.bench.ts: holds the browser-like viewers so their
// CPU is not counted as the bridge's. Commands over IPC:
//   { open: N, address }  opens N sockets, subscribes, answers { ready: N } once each has its snapshot
//   { close: true }       closes them all, answers { closed: true }
import { WebSocket } from 'ws'
import { BRIDGE_PROTOCOL_VERSION } from '../src/protocol.js'

let sockets: WebSocket[] = []
let bytes = 0

process.on('message', async (command: { open?: number; address?: string; close?: boolean }) => {
  if (command.open) {
    const opened = await Promise.all(
      Array.from(
        { length: command.open },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://${command.address}/ws`)
            ws.once('error', reject)
            ws.on('message', (data: Buffer) => {
              bytes += data.length
              if (!ws.listenerCount('snapshot')) return
              ws.emit('snapshot')
            })
            ws.once('open', () => {
              ws.once('snapshot', () => resolve(ws))
              ws.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'subscribe', seq: 1 }))
            })
          }),
      ),
    )
    sockets.push(...opened)
    process.send?.({ ready: sockets.length })
  }
  if (command.close) {
    await Promise.all(
      sockets.map((ws) => new Promise((resolve) => ws.once('close', resolve).close())),
    )
    sockets = []
    process.send?.({ closed: true, bytes })
  }
})
