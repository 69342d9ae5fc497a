#!/usr/bin/env node
// Builds Jazzer.js's native addon (libFuzzer bound to Node) from the C++
// sources in the @jazzer.js/fuzzer registry tarball, linked against the
// system's stock libFuzzer instead of the patched one its CMakeLists
// downloads from GitHub. Why: the package's install script fetches a
// prebuilt binary (4.x ships one needing glibc >= 2.38; 2.x downloads it
// from GitHub) and falls back to cmake-js, which downloads Node headers and
// LLVM sources; neither host is reachable here. Needs a C++17 compiler,
// Node's headers (shipped with Node in <prefix>/include/node) and
// libclang_rt.fuzzer_no_main (Debian/Ubuntu: apt-get install libclang-rt-14-dev,
// or any libclang-rt-N-dev). Exits 0 with the addon's path, or 1 saying
// precisely what is missing.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const native = join(here, '..', 'native')
const require = createRequire(join(here, '..', 'package.json'))

/** Files in `dir` whose names match `pattern` (Node 20 has no fs.globSync). */
const filesIn = (dir, pattern) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => pattern.test(f))
        .map((f) => join(dir, f))
    : []

function fail(message) {
  console.error(`jazzer addon not built: ${message}`)
  process.exit(1)
}

function findFuzzerPackage() {
  // @jazzer.js/fuzzer is a dependency of @jazzer.js/core, not ours: resolve it from there.
  const core = dirname(require.resolve('@jazzer.js/core/package.json'))
  const fuzzer = dirname(
    createRequire(join(core, 'package.json')).resolve('@jazzer.js/fuzzer/package.json'),
  )
  if (!existsSync(join(fuzzer, 'addon.cpp')))
    fail(`${fuzzer} has no C++ sources (only @jazzer.js/fuzzer 2.x ships them in its tarball)`)
  return fuzzer
}

export function addonPath() {
  return join(findFuzzerPackage(), 'build', 'Release', 'jazzerjs.node')
}

function findLibFuzzer() {
  const roots = ['/usr/lib', '/usr/local/lib', '/usr/lib64']
  for (const root of roots) {
    if (!existsSync(root)) continue
    for (const llvm of readdirSync(root)
      .filter((d) => /^llvm-\d+$/.test(d))
      .sort()
      .reverse()) {
      const clang = join(root, llvm, 'lib', 'clang')
      for (const version of existsSync(clang) ? readdirSync(clang) : []) {
        const lib = join(clang, version, 'lib')
        const found = [
          ...filesIn(join(lib, 'linux'), /^libclang_rt\.fuzzer_no_main-x86_64\.a$/),
          ...filesIn(join(lib, 'x86_64-pc-linux-gnu'), /^libclang_rt\.fuzzer_no_main\.a$/),
          ...filesIn(join(lib, 'x86_64-unknown-linux-gnu'), /^libclang_rt\.fuzzer_no_main\.a$/),
        ]
        if (found.length > 0) return found[0]
      }
    }
  }
  return undefined
}

function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    fail(`only linux-x64 is scripted here (this is ${process.platform}-${process.arch})`)
  const fuzzer = findFuzzerPackage()
  const out = join(fuzzer, 'build', 'Release', 'jazzerjs.node')
  if (existsSync(out) && !process.argv.includes('--force')) {
    console.log(out)
    return
  }
  const nodeHeaders = join(dirname(process.execPath), '..', 'include', 'node')
  if (!existsSync(join(nodeHeaders, 'node_api.h')))
    fail(`Node's headers are not at ${nodeHeaders} (node_api.h missing)`)
  const addonApi = dirname(
    createRequire(join(fuzzer, 'package.json')).resolve('node-addon-api/package.json'),
  )
  const libFuzzer = findLibFuzzer()
  if (!libFuzzer)
    fail(
      'no libclang_rt.fuzzer_no_main archive under /usr/lib/llvm-*/ (Debian/Ubuntu: apt-get install libclang-rt-14-dev)',
    )
  const cxx = process.env.CXX ?? 'c++'
  const sources = [
    ...filesIn(fuzzer, /\.cpp$/),
    ...filesIn(join(fuzzer, 'shared'), /\.cpp$/),
    join(native, 'stock_libfuzzer_shim.cpp'),
  ]
  mkdirSync(dirname(out), { recursive: true })
  const partial = `${out}.${process.pid}.partial`
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-std=c++17',
    '-DNAPI_VERSION=4',
    '-DNAPI_CPP_EXCEPTIONS',
    `-I${nodeHeaders}`,
    `-I${addonApi}`,
    `-I${native}`,
    ...sources,
    '-Wl,--whole-archive',
    libFuzzer,
    '-Wl,--no-whole-archive',
    '-lpthread',
    '-o',
    partial,
  ]
  try {
    execFileSync(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  } catch (error) {
    fail(`${cxx} failed (${error.message.split('\n')[0]})`)
  }
  // Whole or not at all: a concurrent run never loads a half-written addon.
  renameSync(partial, out)
  console.log(out)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
