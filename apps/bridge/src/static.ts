import { existsSync, readFileSync, statSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
}

export interface StaticFile {
  path: string
  type: string
}

/** The built page's file for a URL path, never outside `dir`. Browsers ask for `/favicon.ico`: it is the SVG icon. */
export function staticFile(dir: string | undefined, urlPath: string): StaticFile | undefined {
  if (!dir) return undefined
  const wanted =
    urlPath === '/' ? '/index.html' : urlPath === '/favicon.ico' ? '/favicon.svg' : urlPath
  const relative = normalize(wanted).replace(/^(\.\.[/\\])+/, '')
  const file = join(dir, relative)
  if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return undefined
  return { path: file, type: MIME[extname(file)] ?? 'application/octet-stream' }
}

export function readStatic(file: StaticFile): Buffer {
  return readFileSync(file.path)
}
