#!/usr/bin/python3
"""The seed report's training protocol in PyTorch, as a speed (and sanity)
reference for kmlb's C++ trainer.

Same protocol as TrainConfig::report(): stratified 25 % hold-out, stratified
3-fold CV on the rest, MLP 15-15-12-10-1 (ReLU), sigmoid + BCE from logits,
balanced class weights, L2 0.001 on the weights as a loss term, Adam
(lr 1e-3, betas 0.9/0.999, eps 1e-7; torch.optim.Adam, which places eps
after the bias correction, unlike Keras: irrelevant to speed), batch 64,
up to 500 epochs, early stopping on val_loss (patience 3, min_delta 1e-4,
best weights restored), final model = fold with the fewest validation
misclassifications. One thread (torch.set_num_threads(1)), float32.

Measures training throughput over all train steps (gather + forward +
backward + optimizer step; evaluation excluded), and wall time.

  /usr/bin/python3 tools/torch_protocol.py --data seed.csv
  /usr/bin/python3 tools/torch_protocol.py --data seed.csv --bench build/train_bench
  /usr/bin/python3 tools/torch_protocol.py --data seed.csv --kmlb bench.json

--bench runs kmlb's benchmark binary (BM_TrainStep, BM_ReportProtocol) and
--kmlb reads its --benchmark_format=json output; either prints both figures
and the ratio. --max-epochs caps the epochs (the throughput is the same).
"""
import argparse
import csv
import json
import subprocess
import sys
import time

import numpy as np
import torch


def read_csv(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        data = np.array([[float(v) for v in r] for r in rows], dtype=np.float32)
    if header[-1] != "can_migrate":
        sys.exit(f"{path}: the last column must be can_migrate")
    return header[:-1], data[:, :-1], data[:, -1]


def stratified_holdout(y, fraction, rng):
    test = []
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.extend(idx[: int(round(fraction * len(idx)))])
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def stratified_kfold(y, rows, k, rng):
    members = [[] for _ in range(k)]
    nxt = 0
    for c in (0, 1):
        idx = rows[y[rows] == c].copy()
        rng.shuffle(idx)
        for r in idx:
            members[nxt].append(r)
            nxt = (nxt + 1) % k
    return [(np.sort(np.concatenate([members[g] for g in range(k) if g != f])),
             np.sort(np.array(members[f]))) for f in range(k)]


class Mlp(torch.nn.Module):
    def __init__(self, inputs, hidden):
        super().__init__()
        sizes = [inputs] + hidden + [1]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.layers:  # Keras' Dense defaults
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x).reshape(-1)

    def l2(self):
        return sum((layer.weight ** 2).sum() for layer in self.layers)


def evaluate(model, x, y, l2):
    with torch.no_grad():
        z = model(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y).item()
        wrong = int(((z > 0).float() != y).sum())
        return loss + l2 * model.l2().item(), wrong


def train_fold(x, y, train_rows, val_rows, args, seed):
    torch.manual_seed(seed)
    model = Mlp(x.shape[1], args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    xt, yt = x[train_rows], y[train_rows]
    xv, yv = x[val_rows], y[val_rows]
    n1 = float(yt.sum())
    n0 = len(yt) - n1
    cw = torch.tensor([len(yt) / (2 * n0), len(yt) / (2 * n1)], dtype=torch.float32)
    sample_w = cw[yt.long()]
    best, best_state, wait = float("inf"), None, 0
    step_seconds, samples, epochs = 0.0, 0, 0
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(args.max_epochs):
        epochs += 1
        t0 = time.perf_counter()
        order = torch.randperm(len(yt), generator=gen)
        for start in range(0, len(yt), args.batch):
            idx = order[start:start + args.batch]
            xb, yb, wb = xt[idx], yt[idx], sample_w[idx]
            opt.zero_grad(set_to_none=True)
            z = model(xb)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                z, yb, weight=wb, reduction="sum") / len(idx)
            loss = loss + args.l2 * model.l2()
            loss.backward()
            opt.step()
        step_seconds += time.perf_counter() - t0
        samples += len(yt)
        val_loss, _ = evaluate(model, xv, yv, args.l2)
        if val_loss < best - args.min_delta:
            best, wait = val_loss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= args.patience:
                break
    model.load_state_dict(best_state)
    _, wrong = evaluate(model, xv, yv, args.l2)
    return model, wrong, epochs, step_seconds, samples


def kmlb_figures(args):
    if args.bench:
        out = subprocess.run(
            [args.bench, "--benchmark_filter=BM_TrainStep/chen:0|BM_ReportProtocol",
             "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
        doc = json.loads(out)
    elif args.kmlb:
        with open(args.kmlb) as f:
            doc = json.load(f)
    else:
        return None
    figures = {}
    for b in doc["benchmarks"]:
        if b["name"].startswith("BM_TrainStep/chen:0"):
            figures["samples_per_second"] = b["items_per_second"]
        elif b["name"].startswith("BM_ReportProtocol"):
            figures["protocol_seconds"] = b["real_time"]  # the unit is seconds
            figures["protocol_samples_per_second"] = b.get("train_samples_per_second")
            figures["test_misclassified"] = b.get("test_misclassified")
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="features CSV (kmlb generate/prep output)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, nargs="*", default=[15, 12, 10])
    ap.add_argument("--max-epochs", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--min-delta", type=float, default=1e-4)
    ap.add_argument("--l2", type=float, default=0.001)
    ap.add_argument("--bench", help="kmlb's train_bench binary: run it and compare")
    ap.add_argument("--kmlb", help="train_bench --benchmark_format=json output to compare with")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)

    wall0 = time.perf_counter()
    _, x_np, y_np = read_csv(args.data)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    rng = np.random.default_rng(args.seed)
    train_rows, test_rows = stratified_holdout(y_np, 0.25, rng)
    folds = stratified_kfold(y_np, train_rows, 3, rng)
    results = [train_fold(x, y, tr, va, args, args.seed * 100 + f)
               for f, (tr, va) in enumerate(folds)]
    chosen = min(range(len(results)), key=lambda f: results[f][1])
    _, test_wrong = evaluate(results[chosen][0], x[test_rows], y[test_rows], args.l2)
    wall = time.perf_counter() - wall0
    step_seconds = sum(r[3] for r in results)
    samples = sum(r[4] for r in results)
    out = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "rows": len(y_np),
        "epochs": [r[2] for r in results],
        "validation_misclassified": [r[1] for r in results],
        "test_misclassified": test_wrong,
        "test_rows": len(test_rows),
        "train_samples": samples,
        "samples_per_second": samples / step_seconds,
        "wall_seconds": wall,
    }
    kmlb = kmlb_figures(args)
    if kmlb:
        out["kmlb"] = kmlb
        out["throughput_ratio"] = kmlb["samples_per_second"] / out["samples_per_second"]
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"torch {out['torch_version']}, 1 thread: {samples} training samples in "
          f"{step_seconds:.1f} s of train steps = {out['samples_per_second']:,.0f} samples/s; "
          f"protocol wall {wall:.1f} s; epochs {out['epochs']}; "
          f"test misclassified {test_wrong} of {len(test_rows)}")
    if kmlb:
        print(f"kmlb: train step {kmlb['samples_per_second']:,.0f} samples/s "
              f"(ratio {out['throughput_ratio']:.1f}x); report protocol "
              f"{kmlb.get('protocol_seconds', float('nan')):.2f} s wall, test misclassified "
              f"{kmlb.get('test_misclassified')}")


if __name__ == "__main__":
    main()
