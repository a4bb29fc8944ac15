#!/usr/bin/env bash
# The integration tests in a real VS Code, as `npm test` and CI run them:
#   1. tools/vscode/ensure-code-server.sh   (Node 24 + code-server + chromium, cached outside the repo)
#   2. npm run package                       (build + platform .vsix), unless --vsix is given
#   3. npm run compile-tests                 (only when out/test/vscode/suite is missing or stale)
#   4. node test/vscode/runTest.mjs --vsix   (installs the .vsix into a fresh profile, then runs
#        phase 1: the mocha suite inside the extension host (test/vscode/suite), and
#        phase 2: the UI tests (test/vscode/ui/*.ui.mjs, plain .mjs, not compiled): the extension used
#                 through the workbench as a user would; screenshots in out/vscode-artifacts/ui)
#
# Usage: tools/vscode/test-integration.sh [--vsix file.vsix] [--dev] [runTest.mjs options...]
#   --vsix FILE  test this package instead of building one
#   --dev        test the repo as extensionDevelopmentPath instead of a .vsix (builds, no packaging)
#   anything else goes to test/vscode/runTest.mjs (--grep, --bail, --no-ui, --ui-only, --artifacts,
#   --timeout, --keep, --verbose, ...)
# Works non-interactively (CI=true, no stdin, root). Exit code: the suite's.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO="$(pwd)"
exec </dev/null

log() { echo "[test-integration] $*"; }
die() { echo "[test-integration] ERROR: $*" >&2; exit 1; }

VSIX=""
DEV=0
RUN_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vsix) [ $# -ge 2 ] || die "--vsix needs a file"; VSIX="$2"; shift 2 ;;
    --vsix=*) VSIX="${1#--vsix=}"; shift ;;
    --dev) DEV=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) RUN_ARGS+=("$1"); shift ;;
  esac
done
[ -d node_modules/playwright-core ] || die "node_modules is not installed: run npm ci first"

T0=$(date +%s)
bash tools/vscode/ensure-code-server.sh
T1=$(date +%s)

if [ "$DEV" = 1 ]; then
  log "building (development mode: the repo is the extension under test)"
  npm run --silent build
elif [ -z "$VSIX" ]; then
  VSIX_DIR="$(mktemp -d "${TMPDIR:-/tmp}/loupe-vsix-XXXXXX")"
  trap 'rm -rf "$VSIX_DIR"' EXIT
  VSIX="$VSIX_DIR/loupe.vsix"
  log "packaging into $VSIX"
  npm run --silent package -- --out "$VSIX"
else
  [ -f "$VSIX" ] || die "no such .vsix: $VSIX"
  VSIX="$(cd "$(dirname "$VSIX")" && pwd)/$(basename "$VSIX")"
fi
T2=$(date +%s)

SUITE="out/test/vscode/suite/index.js"
stale=0
if [ ! -f "$SUITE" ]; then
  stale=1
else
  for f in test/vscode/suite/*.ts; do
    [ "$f" -nt "${SUITE%/index.js}/$(basename "${f%.ts}").js" ] && stale=1
  done
fi
if [ "$stale" = 1 ]; then
  log "compiling the tests (npm run compile-tests)"
  npm run --silent compile-tests
fi
T3=$(date +%s)

if [ "$DEV" = 1 ]; then
  MODE_ARGS=(--extensionDevelopmentPath "$REPO")
else
  MODE_ARGS=(--vsix "$VSIX")
fi
set +e
node test/vscode/runTest.mjs "${MODE_ARGS[@]}" --extensionTestsPath "$REPO/$SUITE" "${RUN_ARGS[@]+"${RUN_ARGS[@]}"}"
rc=$?
set -e
T4=$(date +%s)
log "times: ensure $((T1 - T0))s, package $((T2 - T1))s, compile $((T3 - T2))s, suite $((T4 - T3))s; exit $rc"
exit $rc
