#!/usr/bin/env bash
# Idempotently installs what the real-VS Code integration tests need, OUTSIDE the repo:
#   - Debian packages: chromium (driven by playwright-core), libkrb5-dev (code-server's kerberos
#     module builds from source)
#   - Node 24 (npm package node-linux-<arch>@NODE_VERSION: bin/node + include/node headers)
#   - code-server@CODE_SERVER_VERSION (the real VS Code workbench + remote extension host), installed
#     with npm running under Node 24 (code-server checks the Node version from npm's user agent) and
#     npm_config_nodedir pointing at Node 24's headers (wins over `nodedir=/usr` in ~/.npmrc).
#
# Layout (default cache: ${LOUPE_VSCODE_CACHE:-$HOME/.cache/loupe-vscode}):
#   <cache>/node-v<NODE_VERSION>/bin/node
#   <cache>/code-server-<CODE_SERVER_VERSION>/node_modules/code-server/out/node/entry.js
#   <cache>/paths.env     (LOUPE_NODE24=..., LOUPE_CODE_SERVER_ENTRY=...; read by test/vscode/runTest.mjs)
#
# Usage: tools/vscode/ensure-code-server.sh [--no-apt]
#   --no-apt   do not touch Debian packages (only check and warn)
# Env: LOUPE_VSCODE_CACHE, LOUPE_NODE_VERSION (24.22.3), LOUPE_CODE_SERVER_VERSION (4.139.1)
set -euo pipefail

NODE_VERSION="${LOUPE_NODE_VERSION:-24.22.3}"
CODE_SERVER_VERSION="${LOUPE_CODE_SERVER_VERSION:-4.139.1}"
CACHE="${LOUPE_VSCODE_CACHE:-$HOME/.cache/loupe-vscode}"
DO_APT=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) DO_APT=0 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "ensure-code-server: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[ensure-code-server] $*"; }
die() { echo "[ensure-code-server] ERROR: $*" >&2; exit 1; }
T0=$(date +%s)

[ "$(uname -s)" = Linux ] || die "only Linux is supported (code-server via npm + Debian chromium); on macOS/Windows use test/vscode/runTestElectron.mjs"
case "$(uname -m)" in
  x86_64) NODE_ARCH=x64 ;;
  aarch64|arm64) NODE_ARCH=arm64 ;;
  *) die "unsupported CPU architecture $(uname -m)" ;;
esac

# ---------------------------------------------------------------------------- Debian packages
need_pkgs=()
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects a Debian/Ubuntu machine"
for p in chromium libkrb5-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    need_pkgs+=("$p")
  fi
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$DO_APT" = 0 ]; then
    log "WARNING: missing Debian packages (not installing, --no-apt): ${need_pkgs[*]}"
  else
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null 2>&1 || die "missing Debian packages ${need_pkgs[*]} and not root (no sudo): run 'apt-get update && apt-get install -y ${need_pkgs[*]}' as root"
      SUDO="sudo -n"
    fi
    log "installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q || die "apt-get update failed"
    $SUDO apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" </dev/null \
      || die "apt-get install ${need_pkgs[*]} failed"
  fi
else
  log "Debian packages present: chromium libkrb5-dev"
fi
if [ "$DO_APT" = 1 ]; then
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after installing the chromium package"
fi

mkdir -p "$CACHE" || die "cannot create cache folder $CACHE"
CACHE="$(cd "$CACHE" && pwd)"

# Serialize concurrent runs on the same cache.
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# npm's CLI (any recent npm; run with Node 24 as its interpreter).
NPM_CLI="${LOUPE_NPM_CLI:-}"
if [ -z "$NPM_CLI" ]; then
  command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
  NPM_CLI="$(readlink -f "$(command -v npm)")"
  case "$NPM_CLI" in
    *.js) ;;
    *) NPM_CLI="$(npm prefix -g)/lib/node_modules/npm/bin/npm-cli.js" ;;
  esac
fi
[ -f "$NPM_CLI" ] || die "cannot locate npm-cli.js (tried $NPM_CLI); set LOUPE_NPM_CLI"

# ---------------------------------------------------------------------------- Node 24
NODE_DIR="$CACHE/node-v$NODE_VERSION"
NODE24="$NODE_DIR/bin/node"
if [ -x "$NODE24" ] && [ -f "$NODE_DIR/include/node/node_api.h" ] && [ "$("$NODE24" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  log "Node $NODE_VERSION present: $NODE24"
else
  log "installing Node $NODE_VERSION (npm pack node-linux-$NODE_ARCH@$NODE_VERSION) into $NODE_DIR"
  tmp="$(mktemp -d "$CACHE/.node-tmp.XXXXXX")"
  ( cd "$tmp" && npm pack --silent "node-linux-$NODE_ARCH@$NODE_VERSION" >/dev/null ) \
    || { rm -rf "$tmp"; die "npm pack node-linux-$NODE_ARCH@$NODE_VERSION failed (is the npm registry reachable?)"; }
  tar xzf "$tmp"/node-linux-"$NODE_ARCH"-*.tgz -C "$tmp" || { rm -rf "$tmp"; die "cannot untar the Node tarball"; }
  [ -x "$tmp/package/bin/node" ] || { rm -rf "$tmp"; die "node-linux-$NODE_ARCH tarball has no bin/node"; }
  rm -rf "$NODE_DIR"
  mv "$tmp/package" "$NODE_DIR"
  rm -rf "$tmp"
  got="$("$NODE24" --version)" || die "installed $NODE24 does not run"
  [ "$got" = "v$NODE_VERSION" ] || die "installed node reports $got, expected v$NODE_VERSION"
  log "Node $got installed"
fi

# ---------------------------------------------------------------------------- code-server
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
CS_MARKER="$CS_DIR/.loupe-installed"
cs_version() {
  # Always pass --config (else code-server writes ~/.config/code-server/config.yaml).
  local cfgdir; cfgdir="$(mktemp -d)"
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$cfgdir/config.yaml"
  "$NODE24" "$1" --config "$cfgdir/config.yaml" --version 2>/dev/null | head -1 | awk '{print $1}'
  rm -rf "$cfgdir"
}
# The marker records the Node version the native modules were built for.
if [ -f "$CS_MARKER" ] && grep -qx "node=$NODE_VERSION" "$CS_MARKER" && [ -f "$CS_ENTRY" ] \
   && [ "$(cs_version "$CS_ENTRY")" = "$CODE_SERVER_VERSION" ]; then
  log "code-server $CODE_SERVER_VERSION present: $CS_ENTRY"
else
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (npm under Node $NODE_VERSION; builds native modules; ~2-5 min)"
  tmp="$(mktemp -d "$CACHE/.cs-tmp.XXXXXX")"
  printf '{"name":"loupe-code-server-cache","version":"0.0.0","private":true}\n' >"$tmp/package.json"
  npm_log="$tmp/npm-install.log"
  if ! ( cd "$tmp" && \
         env PATH="$NODE_DIR/bin:$PATH" \
             npm_config_nodedir="$NODE_DIR" \
             npm_config_yes=true \
             npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false \
             npm_config_loglevel=warn \
             "$NODE24" "$NPM_CLI" install --no-save --no-package-lock "code-server@$CODE_SERVER_VERSION" \
             </dev/null >"$npm_log" 2>&1 ); then
    echo "----- last 60 lines of npm output ($npm_log) -----" >&2
    tail -60 "$npm_log" >&2
    die "npm install code-server@$CODE_SERVER_VERSION failed (log kept in $npm_log)"
  fi
  [ -f "$tmp/node_modules/code-server/out/node/entry.js" ] || die "code-server entry.js missing after install (log: $npm_log)"
  # code-server's postinstall installs VS Code's own modules (and builds kerberos etc.); an npm that
  # skips install scripts would leave a server that starts but cannot run an extension host.
  [ -d "$tmp/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog" ] \
    || die "code-server's postinstall did not run (lib/vscode/node_modules missing; npm skipping install scripts?) (log: $npm_log)"
  got="$(cs_version "$tmp/node_modules/code-server/out/node/entry.js")"
  [ "$got" = "$CODE_SERVER_VERSION" ] || die "code-server --version printed '$got', expected $CODE_SERVER_VERSION (log: $npm_log)"
  rm -rf "$CS_DIR"
  mv "$tmp" "$CS_DIR"
  printf 'node=%s\ninstalled=%s\n' "$NODE_VERSION" "$(date -u +%FT%TZ)" >"$CS_MARKER"
  log "code-server $got installed"
fi

cat >"$CACHE/paths.env" <<EOF
LOUPE_NODE24=$NODE24
LOUPE_CODE_SERVER_ENTRY=$CS_ENTRY
EOF
log "LOUPE_NODE24=$NODE24"
log "LOUPE_CODE_SERVER_ENTRY=$CS_ENTRY"
log "done in $(( $(date +%s) - T0 ))s"
