#!/usr/bin/env python3
"""A DistilBERT-sized random text classifier for `npm run bench` (never committed: ~265 MB).

6 layers, hidden 768, 12 heads, FFN 3072, vocabulary 30522, 512 positions, 2 labels: the shape of
distilbert-base-uncased with a sequence-classification head, random weights (seed 0), written in
plain torch (Debian's torch 1.13, no transformers) and exported with torch.onnx.export (opset 14,
dynamic batch and sequence, attention_mask honoured). The tokenizer files are copied from
../shared/fixtures/hf/bert-cls (a 1000-word WordPiece vocabulary; its ids are valid here).

    /usr/bin/python3 tools/bench/make_distilbert_random.py <output folder>
"""

import json
import math
import os
import shutil
import sys

import torch
import torch.nn as nn

VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS, LABELS = 30522, 768, 6, 12, 3072, 512, 2
HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "hf", "bert-cls")


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ff1 = nn.Linear(HIDDEN, FFN)
        self.ff2 = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, x, bias):
        b, s, _ = x.shape
        d = HIDDEN // HEADS

        def heads(t):
            return t.view(b, s, HEADS, d).transpose(1, 2)

        q, k, v = heads(self.q(x)) / math.sqrt(d), heads(self.k(x)), heads(self.v(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(torch.nn.functional.gelu(self.ff1(x))))


class DistilBertLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(POSITIONS, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.pre = nn.Linear(HIDDEN, HIDDEN)
        self.cls = nn.Linear(HIDDEN, LABELS)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(positions))
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias)
        return self.cls(torch.relu(self.pre(x[:, 0])))


def main(out):
    torch.manual_seed(0)
    model = DistilBertLike().eval()
    for p in model.parameters():
        nn.init.normal_(p, std=0.02)
    os.makedirs(out, exist_ok=True)
    ids = torch.randint(5, 1000, (2, 16))
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids)),
        os.path.join(out, "model.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}},
        opset_version=14,
    )
    config = {
        "model_type": "distilbert", "vocab_size": VOCAB, "dim": HIDDEN, "hidden_size": HIDDEN, "n_layers": LAYERS,
        "num_hidden_layers": LAYERS, "n_heads": HEADS, "num_attention_heads": HEADS, "hidden_dim": FFN,
        "max_position_embeddings": POSITIONS, "pad_token_id": 0, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER, name), os.path.join(out, name))
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
