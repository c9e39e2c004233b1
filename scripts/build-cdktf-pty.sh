#!/bin/sh
# The CDKTF CLI loads node-pty, whose package ships prebuilt binaries for Node.js up to 22 (ABI 127). On a later line
# the CLI stops at `Cannot find module '../build/Debug/pty.node'`: this builds it from source for the Node.js that
# runs npm (npm names it in npm_node_execpath), against that version's headers.
set -eu
node_bin=${npm_node_execpath:-$(command -v node)}
version=$("$node_bin" -p process.versions.node)
headers=$("$node_bin" -p "require('path').resolve(process.execPath, '../..')")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$headers/include/node/node.h" ]; then
  # npm's `node` package (npx -p node@24) keeps only the binary: take the headers from the package it came from.
  platform=$("$node_bin" -p "process.platform + '-' + process.arch")
  (cd "$tmp" && npm pack --silent "node-$platform@$version" >/dev/null && tar xzf node-*.tgz package/include)
  headers="$tmp/package"
fi
cd "$(dirname "$0")/../node_modules/@cdktf/node-pty-prebuilt-multiarch"
# node-gyp takes npm's nodedir setting (a machine may set it for its own Node.js) over the command line.
npm_config_nodedir="$headers" npx -y node-gyp rebuild --target="$version" --nodedir="$headers"
