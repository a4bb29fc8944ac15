#!/usr/bin/env python3
"""Train models/breast-cancer: a small MLP on sklearn's Wisconsin Diagnostic Breast Cancer data.

Input standardisation (train-split mean/std) is part of the ONNX graph, so the model takes the
30 raw features. Feature names, labels and task are stored in the ONNX metadata_props
(loupe.feature_names, loupe.labels, loupe.task) and in the sidecar model.loupe.json.

Usage:  /usr/bin/python3 tools/train_breast_cancer.py [--epochs N] [--seed S]
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_tools.common import MODELS_DIR, seed_everything, write_json  # noqa: E402
from loupe_tools.export import export_onnx, finalize_onnx, io_summary, write_reference  # noqa: E402

OUT = os.path.join(MODELS_DIR, "breast-cancer")
SAMPLE_ROWS = 60


class TabularMLP(nn.Module):
    def __init__(self, mean, std, n_in=30, hidden=(32, 16), n_out=2, dropout=0.1):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        layers, d = [], n_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, n_out)

    def forward(self, x):
        z = (x - self.mean) / self.std  # standardisation folded into the graph (Sub, Div)
        logits = self.head(self.body(z))
        return logits, torch.softmax(logits, dim=-1)


def write_csv(path, X, y, feature_names, labels):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(feature_names) + ["diagnosis"])
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [labels[int(t)]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    t0 = time.time()
    seed_everything(args.seed)

    ds = load_breast_cancer()
    X, y = ds.data.astype(np.float64), ds.target.astype(np.int64)
    feature_names = [str(n) for n in ds.feature_names]
    labels = [str(n) for n in ds.target_names]  # sklearn target order: 0 malignant, 1 benign
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.2, random_state=args.seed, stratify=y)
    mean, std = X[tr].mean(0), X[tr].std(0)
    model = TabularMLP(mean, std)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-3)
    Xtr = torch.tensor(X[tr], dtype=torch.float32)
    ytr = torch.tensor(y[tr])
    rng = np.random.RandomState(args.seed + 1)
    for ep in range(args.epochs):
        model.train()
        order = rng.permutation(len(tr))
        for s in range(0, len(order), 64):
            b = order[s:s + 64]
            loss = F.cross_entropy(model(Xtr[b])[0], ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc_tr = float((model(Xtr)[0].argmax(-1) == ytr).float().mean())
        logits_te, probs_te = model(torch.tensor(X[te], dtype=torch.float32))
        acc_te = float((logits_te.argmax(-1).numpy() == y[te]).mean())
        nll_te = float(F.cross_entropy(logits_te, torch.tensor(y[te])))

    os.makedirs(OUT, exist_ok=True)
    write_csv(os.path.join(OUT, "heldout.csv"), X[te], y[te], feature_names, labels)
    write_csv(os.path.join(OUT, "sample.csv"), X[te][:SAMPLE_ROWS], y[te][:SAMPLE_ROWS], feature_names, labels)
    # accuracy on exactly what ships in heldout.csv (float32 of the printed values)
    Xcsv = np.array([[float(repr(float(v))) for v in r] for r in X[te]], dtype=np.float32)
    with torch.no_grad():
        acc_csv = float((model(torch.from_numpy(Xcsv))[0].argmax(-1).numpy() == y[te]).mean())
        acc_sample = float((model(torch.from_numpy(Xcsv[:SAMPLE_ROWS]))[0].argmax(-1).numpy()
                            == y[te][:SAMPLE_ROWS]).mean())

    model_path = os.path.join(OUT, "model.onnx")
    export_onnx(model, (torch.from_numpy(Xcsv[:3]),), model_path, ["input"], ["logits", "probabilities"],
                {"input": {0: "batch"}, "logits": {0: "batch"}, "probabilities": {0: "batch"}})
    meta = {
        "loupe.feature_names": json.dumps(feature_names),
        "loupe.labels": json.dumps(labels),
        "loupe.task": "tabular-classifier",
    }
    finalize_onnx(model_path, metadata=meta,
                  doc="Loupe demo: MLP on the Wisconsin Diagnostic Breast Cancer data (raw features in; "
                      "standardisation is inside the graph). See models/README.md.")
    write_json(os.path.join(OUT, "model.loupe.json"),
               {"featureNames": feature_names, "labels": labels, "task": "tabular-classifier"})

    with torch.no_grad():
        lo, pr = model(torch.from_numpy(Xcsv[:5]))
    write_reference("breast-cancer", "models/breast-cancer/model.onnx",
                    [{"inputs": {"input": Xcsv[:5]}, "outputs": {"logits": lo.numpy(), "probabilities": pr.numpy()}}])
    write_json(os.path.join(OUT, "metrics.json"), {
        "accuracy": {"train": acc_tr, "test": acc_te, "heldout_csv": acc_csv, "sample_csv": acc_sample},
        "test_cross_entropy": nll_te,
        "n_train": int(len(tr)), "n_test": int(len(te)),
        "split": "sklearn train_test_split(test_size=0.2, random_state=seed, stratify=y)",
        "seed": args.seed, "epochs": args.epochs,
        "epochs_selection": "50 of {50,100,200,400}: best mean accuracy and cross-entropy in 5-fold CV on the training split",
        "architecture": "standardise -> Linear(30,32) -> ReLU -> Linear(32,16) -> ReLU -> Linear(16,2)",
        "onnx": {"opset": 14, **io_summary(model_path)},
        "data": "sklearn.datasets.load_breast_cancer() (UCI Breast Cancer Wisconsin (Diagnostic), CC BY 4.0)",
    })
    print(f"[result] accuracy train {acc_tr:.4f} test {acc_te:.4f} (n_test {len(te)}); "
          f"heldout.csv {acc_csv:.4f}; sample.csv ({SAMPLE_ROWS} rows) {acc_sample:.4f}; test CE {nll_te:.4f}")
    print(f"[result] model.onnx {os.path.getsize(model_path)} bytes; {time.time() - t0:.0f}s total")
    if acc_te < 0.93:
        sys.exit("held-out accuracy below 0.93")


if __name__ == "__main__":
    main()
