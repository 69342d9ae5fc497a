// The observer page imports schemas and types: that entry must bundle for a
// browser with no Node built-ins.
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

describe('@chronos/codec/schemas', () => {
  it('bundles for the browser', async () => {
    const result = await build({
      entryPoints: [new URL('../src/schemas.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    })
    expect(result.errors).toEqual([])
    const code = result.outputFiles[0]!.text
    expect(code).not.toMatch(/from\s*["']node:/)
    expect(code).toContain('SHAKEHAND')
  })

  it('the full entry does need Node (hashing), which is why the split exists', async () => {
    await expect(
      build({
        entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/node:crypto/)
  })
})
