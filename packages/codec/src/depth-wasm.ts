/**
 * The nesting-depth scan of depth.ts as 199 bytes of WebAssembly: the same
 * byte loop runs ~2.3x faster compiled ahead (44 vs 100 µs for a 64 KB block
 * body here), which is a seventh of JSON.parse's time for that body. Used for
 * bodies between WASM_MIN_BYTES and WASM_MAX_BYTES when the runtime can
 * compile it (a page whose CSP forbids WebAssembly gets the JS loop); the
 * property tests hold it to the JS loop.
 *
 * The module, as text (locals: 0 len, 1 max, 2 i, 3 c, 4 depth; memory 0..len
 * holds the body). `c | 0x20` folds `[`/`{` to 0x7b and `]`/`}` to 0x7d:
 *
 *   (module
 *     (memory (export "memory") 1)
 *     (func (export "depth") (param $len i32) (param $max i32) (result i32)
 *       (local $i i32) (local $c i32) (local $d i32)
 *       block $done loop $next
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
 *         (local.set $c (i32.load8_u (local.get $i)))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (if (i32.eq (local.get $c) (i32.const 0x22)) (then        ;; a string:
 *           block $end loop $char                                     ;; to its closing quote
 *             (br_if $end (i32.ge_u (local.get $i) (local.get $len)))
 *             (local.set $c (i32.load8_u (local.get $i)))
 *             (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *             (br_if $end (i32.eq (local.get $c) (i32.const 0x22)))
 *             (if (i32.eq (local.get $c) (i32.const 0x5c))          ;; a backslash takes the next byte
 *               (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
 *             br $char
 *           end end
 *           br $next))
 *         (local.set $c (i32.or (local.get $c) (i32.const 0x20)))
 *         (if (i32.eq (local.get $c) (i32.const 0x7b)) (then
 *           (if (i32.gt_s (local.tee $d (i32.add (local.get $d) (i32.const 1))) (local.get $max))
 *             (then (return (i32.const 1))))
 *           br $next))
 *         (if (i32.eq (local.get $c) (i32.const 0x7d))
 *           (then (local.set $d (i32.sub (local.get $d) (i32.const 1)))))
 *         br $next
 *       end end
 *       (i32.const 0)))
 */

/** Below this, copying into the module's memory and calling it saves nothing. */
export const WASM_MIN_BYTES = 4096
/** The module's memory grows to the largest body scanned; above this the JS loop scans instead. */
export const WASM_MAX_BYTES = 1024 * 1024

const MODULE_HEX =
  '0061736d0100000001070160027f7f017f030201000503010001071202066d656d6f7279020005646570746800000a96' +
  '0101930101037f02400340200220004f0d0120022d00002103200241016a21022003412246044002400340200220004f' +
  '0d0120022d00002103200241016a210220034122460d01200341dc00460440200241016a21020b0c000b0b0c010b2003' +
  '4120722103200341fb00460440200441016a220420014a044041010f0b0c010b200341fd00460440200441016b21040b' +
  '0c000b0b41000b'

const PAGE_BYTES = 64 * 1024

interface Scanner {
  memory: { buffer: ArrayBuffer; grow(pages: number): number }
  depth: (length: number, maxDepth: number) => number
}

// The few WebAssembly calls used, typed here: the package's TS lib has no DOM types.
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: unknown }
}
const wasmApi = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly

/** Undefined until first used; null when this runtime cannot compile the module. */
let scanner: Scanner | null | undefined

function load(): Scanner | null {
  try {
    const bytes = new Uint8Array(MODULE_HEX.length / 2)
    for (let i = 0; i < bytes.length; i++)
      bytes[i] = Number.parseInt(MODULE_HEX.slice(2 * i, 2 * i + 2), 16)
    const instance = new wasmApi!.Instance(new wasmApi!.Module(bytes))
    return instance.exports as unknown as Scanner
  } catch {
    return null
  }
}

/**
 * True when `bytes` nest deeper than `maxDepth`, false when not, undefined
 * when the module is not available here or the body is outside its sizes.
 */
export function exceedsDepthWasm(bytes: Uint8Array, maxDepth: number): boolean | undefined {
  if (bytes.byteLength < WASM_MIN_BYTES || bytes.byteLength > WASM_MAX_BYTES) return undefined
  if (scanner === undefined) scanner = wasmApi ? load() : null
  if (scanner === null) return undefined
  const { memory } = scanner
  const missing = bytes.byteLength - memory.buffer.byteLength
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE_BYTES))
  new Uint8Array(memory.buffer, 0, bytes.byteLength).set(bytes)
  return scanner.depth(bytes.byteLength, maxDepth) === 1
}
