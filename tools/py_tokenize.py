#!/usr/bin/env python3
"""Encode texts with the Python WordPiece implementation (tools/loupe_tools/wordpiece.py).

Usage: /usr/bin/python3 tools/py_tokenize.py models/<model>/tokenizer.json < texts.json > ids.json
stdin: JSON array of strings; stdout: JSON array of id arrays (template applied, no truncation),
i.e. what `new Tokenizer(tokenizerJson, tokenizerConfig).encode(text).ids` returns in JS.
Used by tools/check_models.mjs for the JS/Python tokenization parity check.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_tools.wordpiece import WordPieceTokenizer  # noqa: E402


def main():
    tok = WordPieceTokenizer.from_tokenizer_json(sys.argv[1])
    texts = json.loads(sys.stdin.read())
    json.dump([tok.encode(t) for t in texts], sys.stdout)


if __name__ == "__main__":
    main()
