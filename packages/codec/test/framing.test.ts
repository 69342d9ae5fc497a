import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_BODY_BYTES,
  decodeMessage,
  EmptyFrameError,
  encodeFrame,
  FrameDecoder,
  FrameTooLargeError,
  frameBody,
  InvalidDataError,
  type Message,
  MessageDecoder,
  TruncatedFrameError,
} from '../src/index.js'

const header = (length: number) => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, length)
  return bytes
}

function bodiesOf(decoder: FrameDecoder, ...chunks: Uint8Array[]): string[] {
  const out: string[] = []
  for (const chunk of chunks) decoder.push(chunk, (b) => out.push(Buffer.from(b).toString()))
  return out
}

const hello: Message = { code: 'PULL_BLOCK', data: 7 }

describe('FrameDecoder', () => {
  it('accepts a body of exactly the maximum size and delivers it once complete', () => {
    const max = 1024
    const decoder = new FrameDecoder({ maxBodyBytes: max })
    const body = new Uint8Array(max).fill(0x61)
    const frame = frameBody(body, { maxBodyBytes: max })
    expect(bodiesOf(decoder, frame.subarray(0, 500))).toEqual([])
    expect(decoder.bufferedBytes).toBe(496)
    const [out] = bodiesOf(decoder, frame.subarray(500))
    expect(out).toHaveLength(max)
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('accepts an 8 MiB body by default', () => {
    const body = new Uint8Array(DEFAULT_MAX_BODY_BYTES).fill(0x20)
    const out: number[] = []
    new FrameDecoder().push(frameBody(body), (b) => out.push(b.byteLength))
    expect(out).toEqual([DEFAULT_MAX_BODY_BYTES])
  })

  it('rejects one byte over the limit from the header alone, holding no body bytes', () => {
    const decoder = new FrameDecoder({ maxBodyBytes: 100 })
    const error = (() => {
      try {
        decoder.push(header(101), () => {})
      } catch (e) {
        return e as FrameTooLargeError
      }
    })()
    expect(error).toBeInstanceOf(FrameTooLargeError)
    expect(error?.code).toBe('FRAME_TOO_LARGE')
    expect(error?.declaredBytes).toBe(101)
    expect(error?.maxBodyBytes).toBe(100)
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('reads a header split across chunks', () => {
    const frame = frameBody(new TextEncoder().encode('abc'))
    const decoder = new FrameDecoder()
    expect(
      bodiesOf(decoder, frame.subarray(0, 1), frame.subarray(1, 3), frame.subarray(3)),
    ).toEqual(['abc'])
  })

  it('delivers the frames before a bad one, then throws, then stays failed', () => {
    const good = frameBody(new TextEncoder().encode('ok'))
    const decoder = new FrameDecoder()
    const seen: string[] = []
    const chunk = Buffer.concat([good, header(0)])
    expect(() => decoder.push(chunk, (b) => seen.push(Buffer.from(b).toString()))).toThrow(
      EmptyFrameError,
    )
    expect(seen).toEqual(['ok'])
    expect(() => decoder.push(good, () => {})).toThrow(EmptyFrameError)
  })

  it('reports a stream that ends inside a frame', () => {
    const decoder = new FrameDecoder()
    decoder.push(header(10), () => {})
    expect(() => decoder.end()).toThrow(TruncatedFrameError)
  })

  it('ends cleanly on a frame boundary', () => {
    const decoder = new FrameDecoder()
    decoder.push(frameBody(new Uint8Array([1])), () => {})
    expect(() => decoder.end()).not.toThrow()
  })
})

describe('encodeFrame', () => {
  it('refuses to produce a body over the limit', () => {
    const big: Message = { code: 'GET_BLOCK', data: 'a'.repeat(64) }
    expect(() => encodeFrame(big, { maxBodyBytes: 40 })).toThrow(FrameTooLargeError)
  })

  it('writes the UTF-8 byte length, not the string length', () => {
    const message: Message = {
      code: 'NEW_BLOCK',
      data: {
        block_header: {
          height: 1,
          prev_hash: '0'.repeat(64),
          timestamp: 1,
          tx_root: '0'.repeat(64),
          producer: 'ノード 🚀',
          hash: '0'.repeat(64),
        },
        transactions: [{ memo: '区块' }],
      },
    }
    const frame = encodeFrame(message)
    const declared = new DataView(frame.buffer, frame.byteOffset).getUint32(0)
    expect(declared).toBe(frame.byteLength - 4)
    expect(declared).toBe(Buffer.byteLength(JSON.stringify(message)))
  })

  it('encodes every body whole, whatever its UTF-8 length beyond its string length', () => {
    // Bodies 0 to 12 bytes longer in UTF-8 than in UTF-16 units, ending in
    // 2-, 3- and 4-byte characters: wherever an encoder that guesses the
    // length and writes once would come up short or cut a character.
    for (const tail of ['é', '区', '🚀'])
      for (let extra = 0; extra <= 12; extra++) {
        const wide = tail.repeat(Math.ceil(extra / (Buffer.byteLength(tail) - tail.length)))
        const message: Message = { code: 'GET_BLOCK', data: `${'a'.repeat(100)}${wide}` }
        const frame = encodeFrame(message)
        const body = Buffer.from(frame.subarray(4)).toString('utf8')
        expect(new DataView(frame.buffer, frame.byteOffset).getUint32(0)).toBe(frame.byteLength - 4)
        expect(body).toBe(JSON.stringify(message))
      }
  })
})

describe('MessageDecoder', () => {
  it('delivers messages in order across chunk boundaries', () => {
    const a = encodeFrame(hello)
    const b = encodeFrame({ code: 'PUSH_BLOCK', data: null })
    const stream = Buffer.concat([a, b])
    const seen: Message[] = []
    const decoder = new MessageDecoder()
    decoder.push(stream.subarray(0, a.length + 2), (m) => seen.push(m))
    expect(seen).toEqual([hello])
    decoder.push(stream.subarray(a.length + 2), (m) => seen.push(m))
    expect(seen).toEqual([hello, { code: 'PUSH_BLOCK', data: null }])
  })
})

describe('decodeMessage errors name what was wrong', () => {
  it('gives the path of the offending block member', () => {
    const body = JSON.stringify({
      code: 'NEW_BLOCK',
      data: {
        block_header: {
          height: '1',
          prev_hash: '0'.repeat(64),
          timestamp: 1,
          tx_root: '0'.repeat(64),
          producer: 'p',
          hash: '0'.repeat(64),
        },
        transactions: [],
      },
    })
    const error = (() => {
      try {
        decodeMessage(body)
      } catch (e) {
        return e as InvalidDataError
      }
    })()
    expect(error).toBeInstanceOf(InvalidDataError)
    expect(error?.code).toBe('INVALID_DATA')
    expect(error?.messageCode).toBe('NEW_BLOCK')
    expect(error?.path).toBe('data.block_header.height')
    expect(error?.message).toContain('data.block_header.height')
  })

  it('gives the index of a transaction that is not an object', () => {
    const block = {
      block_header: {
        height: 1,
        prev_hash: '0'.repeat(64),
        timestamp: 1,
        tx_root: '0'.repeat(64),
        producer: 'p',
        hash: '0'.repeat(64),
      },
      transactions: [{}, [1]],
    }
    expect(() => decodeMessage(JSON.stringify({ code: 'PUSH_BLOCK', data: block }))).toThrow(
      /data\.transactions\[1\]/,
    )
  })

  it('does not mistake inherited property names for codes', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => decodeMessage(JSON.stringify({ code, data: 1 }))).toThrow(
        expect.objectContaining({ code: 'UNKNOWN_CODE' }),
      )
    }
  })

  it('accepts 1.0 as a uint and refuses an address without a port', () => {
    expect(decodeMessage('{"code":"PULL_BLOCK","data":1.0}')).toEqual({
      code: 'PULL_BLOCK',
      data: 1,
    })
    expect(() =>
      decodeMessage('{"code":"SHAKEHAND","data":{"timestamp":1,"height":0,"address":"localhost"}}'),
    ).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }))
  })
})

describe('addresses', () => {
  it('parses and formats IPv4, IPv6 and names', async () => {
    const { parseAddress, formatAddress } = await import('../src/index.js')
    expect(parseAddress('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 })
    expect(parseAddress('[::1]:7001')).toEqual({ host: '::1', port: 7001 })
    expect(parseAddress('node-a.local:1')).toEqual({ host: 'node-a.local', port: 1 })
    for (const bad of ['::1:7001', 'host', 'host:65536', 'ho st:1', ':1', 'host:']) {
      expect(parseAddress(bad), bad).toBeUndefined()
    }
    expect(formatAddress('::1', 9)).toBe('[::1]:9')
    expect(formatAddress('10.0.0.1', 9)).toBe('10.0.0.1:9')
  })
})
