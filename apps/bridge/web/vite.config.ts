import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The observer page: Preact (JSX through esbuild, no Babel) and cytoscape, built to ../dist-web.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
})
