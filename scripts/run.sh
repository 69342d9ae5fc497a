#!/usr/bin/env bash
# The two commands a newcomer needs, on a fresh machine:
#   bash scripts/run.sh demo   set up, then start a local network to watch
#   bash scripts/run.sh test   set up, then lint and run every test
# Setup installs what the machine lacks (pnpm 10 without corepack, whose
# signature check can fail; Chromium for browser tests) and the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

want_pnpm_major=10
ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [[ "$(pnpm --version 2>/dev/null)" == ${want_pnpm_major}.* ]]; then
    return
  fi
  echo "setup: installing pnpm ${want_pnpm_major} with npm (corepack is not relied on)"
  npm install --global --no-fund --no-audit "pnpm@${want_pnpm_major}" >/dev/null
}

# The bridge's end-to-end test drives the system Chromium (never a downloaded one).
ensure_chromium() {
  if [[ -x /usr/bin/chromium ]] || [[ -n "${CHROMIUM_PATH:-}" ]]; then
    return
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium with apt-get"
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null
  else
    echo "setup: chromium is missing and cannot be installed here (need root and apt-get); set CHROMIUM_PATH" >&2
  fi
}

# Coverage-guided fuzzing (tools/fuzz) links Jazzer.js against the system libFuzzer.
# Without it the fuzz smoke still runs, uninstrumented, and says why.
ensure_libfuzzer() {
  if compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/*/libclang_rt.fuzzer_no_main*.a' >/dev/null; then
    return
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    local package
    package="$(apt-cache search --names-only '^libclang-rt-[0-9]+-dev$' 2>/dev/null | cut -d' ' -f1 | sort -V | tail -1)"
    if [[ -n "${package}" ]]; then
      echo "setup: installing ${package} with apt-get (libFuzzer for tools/fuzz)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${package}" >/dev/null || true
    fi
  fi
}

# The container test (apps/node/test/container.test.ts) builds the image and
# runs it with podman and runc; without them it says why and is skipped.
ensure_podman() {
  if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; then
    return
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing podman and runc with apt-get"
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y podman runc >/dev/null ||
      echo "setup: installing podman failed; the container test will be skipped" >&2
  else
    echo "setup: podman/runc are missing and cannot be installed here (need root and apt-get); the container test will be skipped" >&2
  fi
}

ensure_workspace() {
  ensure_pnpm
  COREPACK_ENABLE_STRICT=0 pnpm install --frozen-lockfile --reporter=append-only
}

case "${1:-}" in
  test)
    ensure_workspace
    ensure_chromium
    ensure_libfuzzer
    ensure_podman
    pnpm lint
    pnpm test
    node scripts/test-summary.mjs
    ;;
  demo)
    ensure_workspace
    pnpm build
    pnpm demo
    ;;
  *)
    echo "usage: bash scripts/run.sh test|demo" >&2
    exit 2
    ;;
esac
