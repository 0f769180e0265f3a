#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, idempotently:
#   - Node 24 (pinned npm package) under .tools/, so npm itself runs on it
#   - npm packages (npm ci) when package-lock.json changed
#   - Debian packages: ovn-central (ovsdb-server, ovn-nbctl, ovn-northd), openssl
#   - the Rust toolchain must already exist (rustup); we only check for it
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf '[bootstrap] %s\n' "$*" >&2; }

NODE_PIN=$(sed -n 's/.*"node": "\([0-9.]*\)".*/\1/p' package.json | head -n1)
if [[ ! -x .tools/node_modules/.bin/node ]] || [[ "$(.tools/node_modules/.bin/node --version)" != "v$NODE_PIN" ]]; then
  say "installing node $NODE_PIN into .tools/"
  npm install --prefix .tools --no-save --no-package-lock --loglevel=error "node@$NODE_PIN" >/dev/null
fi
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (node $(node --version))"
  npm ci --loglevel=error --no-audit --no-fund
fi

missing=()
command -v ovsdb-server >/dev/null || missing+=(openvswitch-common)
command -v ovn-nbctl >/dev/null || missing+=(ovn-central ovn-common)
command -v openssl >/dev/null || missing+=(openssl)
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ovn-central ovn-common openvswitch-common openssl >/dev/null
fi

command -v cargo >/dev/null || { say "cargo not found: install Rust with rustup (1.88 or newer)"; exit 1; }
say "ready"
