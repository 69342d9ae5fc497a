// A raw TCP peer for the compliance suite's frame-timeout test.
import { connect } from 'node:net'
import { parseAddress } from '@chronos/codec'

/** A TCP peer that announces a 100-byte body and sends 10 bytes of it. */
export async function openPartialTcpFrame(address: string): Promise<() => void> {
  const target = parseAddress(address)!
  const socket = connect({ host: target.host, port: target.port })
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.write(Buffer.concat([Buffer.from([0, 0, 0, 100]), Buffer.from('{"code":"P')]))
  return () => socket.destroy()
}
