"""A small, dependency-free WordPiece tokenizer that matches `@huggingface/tokenizers` (JS).

The pipeline mirrors what the JS library does with the tokenizer.json written by
`tokenizer_json()`:

1. split the raw text on added/special tokens ([PAD], [UNK], ...) -- exact, case-sensitive,
   longest match first (JS `DictionarySplitter`); such sections map straight to their ids;
2. normalizer `Lowercase` (`str.lower()` / `String.prototype.toLowerCase()`);
3. `BertPreTokenizer`: split on whitespace (JS `\\s`), and emit every punctuation char
   (Unicode category P* or ASCII punctuation) as its own pre-token;
4. `WordPiece`: greedy longest-match-first with `##` continuation; a word longer than
   `max_input_chars_per_word` (100) or containing any unmatched piece becomes one [UNK];
5. `TemplateProcessing`: [CLS] A [SEP] (classifier) or [BOS] A (language model).

Vocabulary training is BPE-style like the Hugging Face `WordPieceTrainer`: start from
single characters (word-initial `c` and continuation `##c`) and repeatedly merge the most
frequent adjacent pair.
"""
import heapq
import json
import unicodedata
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Optional, Sequence

PREFIX = "##"
MAX_INPUT_CHARS_PER_WORD = 100

# Characters matched by JavaScript's `\s` (ECMAScript WhiteSpace + LineTerminator).
JS_WHITESPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)


def is_js_whitespace(ch: str) -> bool:
    return ch in JS_WHITESPACE


def is_punctuation(ch: str) -> bool:
    """`[\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E]` in the JS library."""
    cp = ord(ch)
    if 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E:
        return True
    return unicodedata.category(ch).startswith("P")


def normalize(text: str) -> str:
    return text.lower()


def pre_tokenize(text: str) -> List[str]:
    out: List[str] = []
    cur: List[str] = []
    for ch in text:
        if is_js_whitespace(ch):
            if cur:
                out.append("".join(cur))
                cur = []
        elif is_punctuation(ch):
            if cur:
                out.append("".join(cur))
                cur = []
            out.append(ch)
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


class WordPieceTokenizer:
    def __init__(
        self,
        vocab: Dict[str, int],
        special_tokens: Sequence[str],
        unk_token: str = "[UNK]",
        template: str = "cls_sep",
        max_input_chars_per_word: int = MAX_INPUT_CHARS_PER_WORD,
    ):
        self.vocab = dict(vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.special_tokens = list(special_tokens)
        self.unk_token = unk_token
        self.unk_id = self.vocab[unk_token]
        if template not in ("cls_sep", "bos"):
            raise ValueError(template)
        self.template = template
        self.max_input_chars_per_word = max_input_chars_per_word
        # longest first so that the greedy splitter prefers the longest special token
        self._specials_by_len = sorted(self.special_tokens, key=len, reverse=True)

    # ---- construction from / to tokenizer.json -------------------------------------------
    @classmethod
    def from_tokenizer_json(cls, path_or_obj) -> "WordPieceTokenizer":
        if isinstance(path_or_obj, str):
            with open(path_or_obj, encoding="utf-8") as f:
                obj = json.load(f)
        else:
            obj = path_or_obj
        model = obj["model"]
        assert model["type"] == "WordPiece", model["type"]
        assert model.get("continuing_subword_prefix") == PREFIX
        assert obj["normalizer"] == {"type": "Lowercase"}, obj["normalizer"]
        assert obj["pre_tokenizer"] == {"type": "BertPreTokenizer"}, obj["pre_tokenizer"]
        specials = [t["content"] for t in obj["added_tokens"]]
        single = obj["post_processor"]["single"]
        first = single[0].get("SpecialToken", {}).get("id")
        template = "bos" if first == "[BOS]" else "cls_sep"
        return cls(
            model["vocab"],
            specials,
            unk_token=model["unk_token"],
            template=template,
            max_input_chars_per_word=model.get("max_input_chars_per_word", MAX_INPUT_CHARS_PER_WORD),
        )

    def tokenizer_json(self) -> dict:
        added = [
            {
                "id": self.vocab[t],
                "content": t,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for t in self.special_tokens
        ]

        def special(tok, type_id=0):
            return {"SpecialToken": {"id": tok, "type_id": type_id}}

        def seq(name, type_id):
            return {"Sequence": {"id": name, "type_id": type_id}}

        if self.template == "cls_sep":
            single = [special("[CLS]"), seq("A", 0), special("[SEP]")]
            pair = [special("[CLS]"), seq("A", 0), special("[SEP]"), seq("B", 1), special("[SEP]", 1)]
            used = ["[CLS]", "[SEP]"]
        else:
            single = [special("[BOS]"), seq("A", 0)]
            pair = [special("[BOS]"), seq("A", 0), seq("B", 1)]
            used = ["[BOS]"]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": single,
                "pair": pair,
                "special_tokens": {
                    t: {"id": t, "ids": [self.vocab[t]], "tokens": [t]} for t in used
                },
            },
            "decoder": {"type": "WordPiece", "prefix": PREFIX, "cleanup": True},
            "model": {
                "type": "WordPiece",
                "unk_token": self.unk_token,
                "continuing_subword_prefix": PREFIX,
                "max_input_chars_per_word": self.max_input_chars_per_word,
                "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
            },
        }

    # ---- encoding --------------------------------------------------------------------------
    def _split_specials(self, text: str) -> List[str]:
        if not self.special_tokens:
            return [text]
        parts: List[str] = []
        start = i = 0
        n = len(text)
        while i < n:
            match = None
            if text[i] == "[":  # all our special tokens start with "["
                for tok in self._specials_by_len:
                    if text.startswith(tok, i):
                        match = tok
                        break
            if match:
                if i > start:
                    parts.append(text[start:i])
                parts.append(match)
                i += len(match)
                start = i
            else:
                i += 1
        if start < n:
            parts.append(text[start:])
        return parts

    def wordpiece(self, word: str) -> List[str]:
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces: List[str] = []
        start = 0
        n = len(word)
        while start < n:
            end = n
            cur = None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = PREFIX + sub
                if sub in self.vocab:
                    cur = sub
                    break
                end -= 1
            if cur is None:
                return [self.unk_token]
            pieces.append(cur)
            start = end
        return pieces

    def tokenize(self, text: str) -> List[str]:
        """Tokens of `text` without the template's special tokens."""
        out: List[str] = []
        for section in self._split_specials(text):
            if not section:
                continue
            if section in self.special_tokens:
                out.append(section)
                continue
            norm = normalize(section)
            for word in pre_tokenize(norm):
                out.extend(self.wordpiece(word))
        return out

    def encode_tokens(self, text: str) -> List[int]:
        return [self.vocab.get(t, self.unk_id) for t in self.tokenize(text)]

    def encode(self, text: str, max_length: Optional[int] = None) -> List[int]:
        """Ids with the template applied, like JS `tokenizer.encode(text).ids`.

        With max_length, the text ids are truncated (from the right) so that the result,
        including the special tokens, has at most max_length ids.
        """
        ids = self.encode_tokens(text)
        n_special = 2 if self.template == "cls_sep" else 1
        if max_length is not None:
            ids = ids[: max(0, max_length - n_special)]
        if self.template == "cls_sep":
            return [self.vocab["[CLS]"]] + ids + [self.vocab["[SEP]"]]
        return [self.vocab["[BOS]"]] + ids

    def decode(self, ids: Iterable[int]) -> str:
        toks = [self.id_to_token.get(int(i), self.unk_token) for i in ids]
        out = ""
        for i, t in enumerate(toks):
            if t.startswith(PREFIX):
                out += t[len(PREFIX):]
            else:
                out += (" " if i else "") + t
        return out


def _alphabet(word_counts: Counter) -> List[str]:
    chars = set()
    for w in word_counts:
        chars.update(w)
    # all printable ASCII is always present so ASCII text never produces [UNK]
    chars.update(chr(c) for c in range(0x21, 0x7F))
    chars = {c.lower() for c in chars}
    alpha = set()
    for c in chars:
        alpha.add(c)
        if not is_punctuation(c):  # punctuation is always its own pre-token
            alpha.add(PREFIX + c)
    return sorted(alpha)


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str],
    min_frequency: int = 2,
    template: str = "cls_sep",
    verbose: bool = True,
) -> WordPieceTokenizer:
    """BPE-style WordPiece vocabulary training (like Hugging Face's WordPieceTrainer)."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(pre_tokenize(normalize(t)))
    words_all = [w for w in counts if len(w) <= MAX_INPUT_CHARS_PER_WORD]
    alphabet = _alphabet(Counter({w: counts[w] for w in words_all}))
    vocab: Dict[str, int] = {}
    for t in list(special_tokens) + alphabet:
        if t not in vocab:
            vocab[t] = len(vocab)

    words = sorted(w for w in words_all if len(w) > 1)
    symbols = [[w[0]] + [PREFIX + c for c in w[1:]] for w in words]
    freqs = [counts[w] for w in words]

    pair_counts: Dict[tuple, int] = defaultdict(int)
    where: Dict[tuple, set] = defaultdict(set)
    for i, sy in enumerate(symbols):
        f = freqs[i]
        for a, b in zip(sy, sy[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)

    while len(vocab) < vocab_size and heap:
        negc, pair = heapq.heappop(heap)
        c = pair_counts.get(pair, 0)
        if c != -negc:
            if c > 0:
                heapq.heappush(heap, (-c, pair))
            continue
        if c < min_frequency:
            break
        a, b = pair
        new = a + b[len(PREFIX):]
        if new not in vocab:
            vocab[new] = len(vocab)
        touched = set()
        for i in list(where[pair]):
            sy = symbols[i]
            f = freqs[i]
            for x, y in zip(sy, sy[1:]):
                pair_counts[(x, y)] -= f
                where[(x, y)].discard(i)
                touched.add((x, y))
            merged = []
            j = 0
            while j < len(sy):
                if j + 1 < len(sy) and sy[j] == a and sy[j + 1] == b:
                    merged.append(new)
                    j += 2
                else:
                    merged.append(sy[j])
                    j += 1
            symbols[i] = merged
            for x, y in zip(merged, merged[1:]):
                pair_counts[(x, y)] += f
                where[(x, y)].add(i)
                touched.add((x, y))
        for p in touched:
            cnt = pair_counts.get(p, 0)
            if cnt <= 0:
                pair_counts.pop(p, None)
                where.pop(p, None)
            else:
                heapq.heappush(heap, (-cnt, p))
    if verbose:
        print(f"[wordpiece] {len(counts)} word types, alphabet {len(alphabet)}, vocab {len(vocab)}")
    return WordPieceTokenizer(vocab, special_tokens, template=template)
