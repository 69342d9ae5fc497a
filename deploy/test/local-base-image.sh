#!/usr/bin/env bash
# Builds a minimal local base image from this machine's own Node.js, for
# machines that cannot pull node:20-slim: the node binary, npm, corepack and
# pnpm as installed here, a POSIX shell and the few tools the Containerfile's
# RUN steps and pnpm's bin shims use, every shared library those link (from ldd), and an
# /etc/passwd with root and node (uid 1000, as in the official image).
# Usage: local-base-image.sh IMAGE_NAME   (podman must be able to import)
set -euo pipefail
image=${1:?usage: local-base-image.sh IMAGE_NAME}
node_bin=$(readlink -f "$(command -v node)")
node_prefix=$(dirname "$(dirname "$node_bin")")   # /usr or /usr/local
modules="$node_prefix/lib/node_modules"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

tools=(sh dash env mkdir chown chmod cp ln rm mv cat ls id sed dirname basename uname head tr grep)
binaries=("$node_bin")
for tool in "${tools[@]}"; do binaries+=("$(readlink -f "$(command -v "$tool")")"); done

copy() { # copy a file to the same path in the stage, following symlinks
  mkdir -p "$stage$(dirname "$1")"
  cp -L "$1" "$stage$1"
}
for bin in "${binaries[@]}"; do
  copy "$bin"
  # ldd lines: "libx.so => /path (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
  ldd "$bin" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do copy "$lib"; done
done
# Native addons in the build (rollup, esbuild, classic-level) link more of
# glibc than node does: take its whole runtime set from beside libc.
libdir=$(dirname "$(ldd "$node_bin" | awk '/libc\.so/{print $3}')")
for lib in libc libm libdl librt libpthread libresolv libutil libanl libnss_files libnss_dns libstdc++ libgcc_s; do
  for file in "$libdir/$lib".so*; do [ -e "$file" ] && copy "$file"; done
done
mkdir -p "$stage/usr/bin" "$stage/bin" "$stage/tmp" "$stage/etc" "$stage/home/node" "$stage/root"
chmod 1777 "$stage/tmp"
[ -e "$stage/usr/bin/node" ] || ln -s "$node_bin" "$stage/usr/bin/node"
for tool in "${tools[@]}"; do
  target=$(readlink -f "$(command -v "$tool")")
  [ -e "$stage/bin/$tool" ] || ln -s "$target" "$stage/bin/$tool"
  [ -e "$stage/usr/bin/$tool" ] || ln -s "$target" "$stage/usr/bin/$tool"
done
[ -e "$stage/bin/sh" ] || ln -s "$(readlink -f "$(command -v dash)")" "$stage/bin/sh"
mkdir -p "$stage$modules"
for pkg in npm corepack pnpm; do
  [ -d "$modules/$pkg" ] && cp -a "$modules/$pkg" "$stage$modules/$pkg"
done
[ -d "$modules/npm" ] && ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/bin/npm"
[ -d "$modules/npm" ] && ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/bin/npx"
[ -d "$modules/pnpm" ] && ln -sf ../lib/node_modules/pnpm/bin/pnpm.cjs "$stage/usr/bin/pnpm"
[ -d "$modules/corepack" ] && ln -sf ../lib/node_modules/corepack/dist/corepack.js "$stage/usr/bin/corepack"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$stage/etc/group"
chown 1000:1000 "$stage/home/node"
[ -d /etc/ssl/certs ] && mkdir -p "$stage/etc/ssl" && cp -rL /etc/ssl/certs "$stage/etc/ssl/certs" 2>/dev/null || true
tar -C "$stage" -c . | podman import --quiet --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$image" >/dev/null
