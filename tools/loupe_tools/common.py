"""Paths, seeding and text cleaning shared by the demo-model training scripts."""
import json
import os
import random
import re
import unicodedata

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS_DIR = os.path.join(REPO, "models")
CACHE_DIR = os.path.join(REPO, ".cache")
DATA_DIR = os.path.join(CACHE_DIR, "data")
# Reference inputs/outputs written by the training scripts for tools/check_models.mjs.
CHECK_DIR = os.path.join(CACHE_DIR, "check")


def seed_everything(seed: int, threads: int = 2) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
    except TypeError:  # older torch
        torch.use_deterministic_algorithms(True)


def write_json(path: str, obj, indent=2) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


_ASCII_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "*", "\u00b7": "*",
    "\u00a9": "(c)", "\u00ae": "(r)", "\u2122": "(tm)", "\u00a3": "GBP ", "\u20ac": "EUR ",
}
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def ascii_clean(text: str, collapse_whitespace: bool = True) -> str:
    """Map typographic punctuation to ASCII, strip accents, drop other non-ASCII and control chars.

    With collapse_whitespace every whitespace run becomes one space (single-line text);
    otherwise spaces/tabs are collapsed but newlines are kept.
    """
    text = "".join(_ASCII_MAP.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CTRL_RE.sub(" ", text)
    if collapse_whitespace:
        return re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return text.strip()
