// A page that decodes messages with `@chronos/codec/schemas` must not carry
// every zod locale: `import { z } from 'zod'` pulled all of them in (457 KB
// minified); `import * as z from 'zod'` lets the bundler keep only what is
// used (97 KB, measured with esbuild when the imports were changed).
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

describe('@chronos/codec/schemas in a browser bundle', () => {
  it('carries no zod locale beyond the default English one, and stays under 150 KB minified', async () => {
    const schemas = new URL('../src/schemas.ts', import.meta.url).pathname
    const result = await build({
      stdin: {
        contents: `import { decodeMessage, encodeMessage } from ${JSON.stringify(schemas)}\nconsole.log(decodeMessage, encodeMessage)`,
        resolveDir: new URL('.', import.meta.url).pathname,
        loader: 'ts',
      },
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      outdir: 'out',
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    // Inputs that left bytes in the output (the metafile also lists what was shaken off).
    const [output] = Object.values(result.metafile.outputs)
    const locales = Object.entries(output!.inputs)
      .filter(
        ([path, { bytesInOutput }]) =>
          bytesInOutput > 0 && /zod\/v4\/locales\/(?!en\.js)/.test(path),
      )
      .map(([path]) => path)
    expect(locales).toEqual([])
    expect(result.outputFiles[0]!.contents.byteLength).toBeLessThan(150 * 1024)
  })
})
