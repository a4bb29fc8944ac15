#!/usr/bin/env python3
"""Checks Loupe's permutation importance against sklearn.inspection.permutation_importance.

    /usr/bin/python3 tools/sklearn_permutation_parity.py --model models/breast-cancer \
        --data models/breast-cancer/heldout.csv [--target diagnosis] [--scoring accuracy,neg_log_loss] \
        [--repeats 5] [--seed 0] [--max-samples N|F] [--independent-seed 1] [--reference out.json]

onnxruntime is not installed for Debian's python, so the model runs in Loupe only, while the
permutations, the scorers and the averaging are sklearn's own:

 1. sklearn draws its permutations: permutation_importance runs on a matrix whose every column holds
    the row indices, with an estimator that records what it is given; each permuted column then *is*
    the permutation sklearn applied (its cumulative shuffles included), and the untouched columns are
    the max_samples row draw.
 2. sklearn scores the real model: permutation_importance runs again on the real X. A first pass
    records every matrix sklearn asks predictions for; `loupe predict` runs the ONNX model on all of
    them at once; a second pass (same random_state, so the same matrices) answers from those
    predictions. sklearn's scorers turn them into importances.
 3. Loupe replays the permutations of step 1 (`loupe importance --permutations`), running the model
    itself on the permuted rows, and its importances must equal sklearn's within --tolerance (1e-6).
 4. With --independent-seed, Loupe runs with its own seed and sklearn with random_state=seed; the
    features clearly important to sklearn (mean > 3 standard errors, the top 3) must lead Loupe's ranking too.

--reference writes the permutations and sklearn's importances to a JSON file, which the node test
test/engine/importance/parity.test.ts replays on machines without sklearn. Exits 1 on a mismatch.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.inspection import permutation_importance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOUPE = [os.environ.get("NODE", "node"), os.path.join(ROOT, "bin", "loupe.js")]


def loupe(*args):
    out = subprocess.run(LOUPE + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"loupe {' '.join(args[:1])} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def read_table(model, data, target):
    """X in the model's feature order and y, with the mapping and labels a one-repeat Loupe run reports."""
    probe = loupe("importance", "--model", model, "--data", data, "--target", target, "--repeats", "1", "--max-samples", "1", "--json")
    mapping = probe["dataset"]["mapping"]
    labels = probe["model"]["labels"]
    with open(data, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    features = [m["column"] for m in mapping]
    X = np.array([[float(r[header.index(c)]) for c in features] for r in body], dtype=np.float64)
    raw = [r[header.index(target)] for r in body]
    if probe["model"]["task"] == "tabular-regressor":
        return features, X, np.array([float(v) for v in raw]), False
    return features, X, np.array([labels.index(v) if labels and v in labels else int(v) for v in raw]), True


class Recorder:
    """Records every matrix it is asked to predict on; answers with dummy outputs."""

    def __init__(self, classifier, n_classes):
        self.classifier, self.n_classes, self.seen = classifier, n_classes, []
        if classifier:
            self.classes_ = np.arange(n_classes)
            self._estimator_type = "classifier"
        else:
            self._estimator_type = "regressor"

    def fit(self, X, y):
        return self

    def _record(self, X):
        self.seen.append(np.array(X, copy=True))
        return len(X)

    def predict(self, X):
        n = self._record(X)
        return np.zeros(n) if not self.classifier else np.arange(n) % self.n_classes

    def predict_proba(self, X):
        n = self._record(X)
        p = np.full((n, self.n_classes), 1.0 / self.n_classes)
        p[np.arange(n), np.arange(n) % self.n_classes] += 1e-3  # both classes predicted somewhere
        return p / p.sum(axis=1, keepdims=True)


class Replayer(Recorder):
    """Answers each call, in order, with the model outputs Loupe computed for that very matrix."""

    def __init__(self, classifier, n_classes, matrices, outputs):
        super().__init__(classifier, n_classes)
        self.matrices, self.outputs, self.call = matrices, outputs, 0

    def _next(self, X):
        i = self.call
        self.call += 1
        if not np.array_equal(X, self.matrices[i]):
            sys.exit(f"sklearn asked for a different matrix on call {i}: the replay is out of step")
        return self.outputs[i]

    def predict(self, X):
        out = self._next(X)
        return out.argmax(axis=1) if self.classifier else out

    def predict_proba(self, X):
        return self._next(X)


def sklearn_permutations(X, y, classifier, n_classes, scoring, repeats, seed, max_samples):
    """sklearn's row draw and effective permutations: perms[f][r][i] indexes the drawn rows."""
    n, F = X.shape
    idx = np.tile(np.arange(n, dtype=np.float64)[:, None], (1, F))
    rec = Recorder(classifier, n_classes)
    permutation_importance(rec, idx, y, scoring=scoring, n_repeats=repeats, random_state=seed, max_samples=max_samples)
    calls = rec.seen[1:]  # the first call is the baseline on all rows
    assert len(calls) == F * repeats and F >= 2, (len(calls), F * repeats)
    # An untouched column of any call holds the drawn rows (the same draw for every column).
    rows = [int(v) for v in calls[0][:, 1]]
    where = {v: i for i, v in enumerate(rows)}
    perms = []
    for f in range(F):
        per_feature = []
        for r in range(repeats):
            m = calls[f * repeats + r]
            assert [int(v) for v in m[:, 1 if f == 0 else 0]] == rows, "the row draw differs between calls"
            per_feature.append([where[int(v)] for v in m[:, f]])
        perms.append(per_feature)
    return rows, perms


def sklearn_importances(model, features, X, y, classifier, n_classes, scoring, repeats, seed, max_samples, tmp):
    """sklearn's importances of the real model (run by `loupe predict` on every matrix sklearn scores)."""
    rec = Recorder(classifier, n_classes)
    permutation_importance(rec, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, max_samples=max_samples)
    stacked = np.vstack(rec.seen)
    path = os.path.join(tmp, f"matrices-{scoring}-{seed}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(features)
        for row in stacked:
            w.writerow([repr(float(v)) for v in row])
    # `loupe predict` maps a CSV's columns by the model's feature names when it has them.
    preds = loupe("predict", "--model", model, "--file", path, "--json")["predictions"]
    if classifier:
        out = np.array([[l["probability"] for l in p["labels"]] for p in preds], dtype=np.float64)
    else:
        out = np.array([p["value"] for p in preds], dtype=np.float64)
    outputs, at = [], 0
    for m in rec.seen:
        outputs.append(out[at : at + len(m)])
        at += len(m)
    rep = Replayer(classifier, n_classes, rec.seen, outputs)
    res = permutation_importance(rep, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, max_samples=max_samples)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--target", default=None)
    ap.add_argument("--scoring", default=None, help="comma-separated sklearn scorer names")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-samples", type=float, default=1.0)
    ap.add_argument("--independent-seed", type=int, default=None)
    ap.add_argument("--tolerance", type=float, default=1e-6)
    ap.add_argument("--reference", default=None, help="write permutations + sklearn importances here")
    a = ap.parse_args()

    model, data = os.path.abspath(a.model), os.path.abspath(a.data)
    header = next(csv.reader(open(data, newline="", encoding="utf-8-sig")))
    target = a.target or header[-1]
    features, X, y, classifier = read_table(model, data, target)
    n_classes = int(max(y.max() + 1, 2)) if classifier else 0
    scorings = (a.scoring or ("accuracy,balanced_accuracy,roc_auc,neg_log_loss" if classifier else "r2,neg_mean_squared_error,neg_mean_absolute_error")).split(",")
    max_samples = int(a.max_samples) if a.max_samples > 1 else a.max_samples
    report = {"model": os.path.relpath(model, ROOT), "data": os.path.relpath(data, ROOT), "target": target, "repeats": a.repeats,
              "seed": a.seed, "maxSamples": max_samples, "sklearn": __import__("sklearn").__version__, "numpy": np.__version__, "cases": []}
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for scoring in scorings:
            rows, perms = sklearn_permutations(X, y, classifier, n_classes, scoring, a.repeats, a.seed, max_samples)
            sk = sklearn_importances(model, features, X, y, classifier, n_classes, scoring, a.repeats, a.seed, max_samples, tmp)
            perm_file = os.path.join(tmp, f"perms-{scoring}.json")
            json.dump({"rows": rows, "perms": perms}, open(perm_file, "w"))
            lo = loupe("importance", "--model", model, "--data", data, "--target", target, "--scoring", scoring,
                       "--repeats", str(a.repeats), "--permutations", perm_file, "--json")
            mine = np.array([f["values"] for f in lo["features"]])
            diff = float(np.max(np.abs(mine - sk.importances)))
            worst = max(worst, diff)
            print(f"{scoring:>28}: max |loupe - sklearn| over {mine.size} importances = {diff:.3e}; "
                  f"baseline {lo['baselineScore']:.6f}; top feature {features[int(np.argmax(sk.importances_mean))]}")
            report["cases"].append({"scoring": scoring, "rows": rows, "perms": perms, "importances": sk.importances.tolist(),
                                    "importancesMean": sk.importances_mean.tolist(), "importancesStd": sk.importances_std.tolist(),
                                    "loupeMaxAbsDiff": diff, "loupeBaselineScore": lo["baselineScore"]})
            if a.independent_seed is not None:
                report["cases"][-1]["ranking"] = ranking_check(model, data, target, features, X, y, classifier, n_classes, scoring, a, max_samples, tmp)
    report["maxAbsDiff"] = worst
    if a.reference:
        json.dump(report, open(a.reference, "w"), separators=(",", ":"))
        print(f"wrote {a.reference}")
    ok = worst <= a.tolerance and all(c.get("ranking", {}).get("agree", True) for c in report["cases"])
    print(f"parity: max |loupe - sklearn| = {worst:.3e} (tolerance {a.tolerance:g}) -> {'OK' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


def ranking_check(model, data, target, features, X, y, classifier, n_classes, scoring, a, max_samples, tmp):
    """Independent seeds: sklearn's clearly important features lead Loupe's ranking."""
    repeats = max(a.repeats, 20)
    sk = sklearn_importances(model, features, X, y, classifier, n_classes, scoring, repeats, a.independent_seed, max_samples, tmp)
    lo = loupe("importance", "--model", model, "--data", data, "--target", target, "--scoring", scoring,
               "--repeats", str(repeats), "--seed", str(a.independent_seed + 1000), "--json")
    lm = np.array([f["mean"] for f in lo["features"]])
    # Clearly important: the mean is over 3 standard errors above zero; the 3 largest such features.
    sem = sk.importances_std / np.sqrt(repeats)
    clear = [i for i in np.argsort(-sk.importances_mean) if sk.importances_mean[i] > 3 * sem[i] and sk.importances_mean[i] > 0][:3]
    k = len(clear)
    loupe_top = list(np.argsort(-lm)[: k + 2])
    agree = all(i in loupe_top for i in clear)
    print(f"{'':>28}  independent seeds ({repeats} repeats): sklearn's clearly important {[features[i] for i in clear]} "
          f"{'are' if agree else 'are NOT'} in Loupe's top {k + 2} {[features[i] for i in loupe_top]}")
    return {"sklearnSeed": a.independent_seed, "loupeSeed": a.independent_seed + 1000, "repeats": repeats,
            "clearlyImportant": [features[i] for i in clear], "loupeTop": [features[i] for i in loupe_top], "agree": agree}


if __name__ == "__main__":
    main()
