#!/usr/bin/python3
"""Golden numbers for kmlb's training engine, computed with PyTorch.

Writes tests/data/golden_mlp_15_15_12_10.json and golden_mlp_15_10.json:
a fixed small MLP (its parameters are in the file), a batch of 10 rows with
balanced class weights, the forward logits, the loss (weighted mean BCE from
logits + L2 0.001 on the weights), every gradient, and the parameters after
the first and the fifth of 5 Adam steps with Keras' semantics on that batch. src/mlp_test.cc and
src/adam_test.cc compare against these files (CI has no torch).

Run with Debian's python3-torch:  /usr/bin/python3 tools/torch_golden.py
The output is deterministic (fixed torch seed, float32 throughout, one thread).

Keras' Adam (what the seed report used), not torch.optim.Adam:
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)     (double, rounded to float)
    p = p - lr_t * m / (sqrt(v) + eps)                 (eps outside the sqrt and
                                                        before bias correction)
All constants are float32, and 1 - beta is computed in float32, as in
src/adam.cc.

Parameter layout (kmlb's): per layer, the weights [outputs][inputs] row-major
(torch.nn.Linear's), then the biases.
"""
import argparse
import json
import math
import os

import numpy as np
import torch

L2 = 0.001
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-7
ADAM_STEPS = 5
ROWS = 10


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


def floats(t):
    """Exact float32 values as JSON numbers (doubles that round-trip)."""
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_case(hidden, seed):
    torch.manual_seed(seed)
    sizes = [15] + hidden + [1]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = (torch.rand(n_out, n_in) * 2 - 1) * math.sqrt(6.0 / (n_in + n_out))
        b = torch.randn(n_out) * 0.1
        layers.append([w.clone().requires_grad_(True), b.clone().requires_grad_(True)])
    # Seed-like features: binaries, small counts, loads, a fraction.
    x = torch.cat([
        torch.randint(0, 2, (ROWS, 8)).float(),
        torch.randint(0, 8, (ROWS, 1)).float(),
        torch.rand(ROWS, 2) * 6,
        torch.randint(0, 6, (ROWS, 1)).float(),
        torch.rand(ROWS, 1) * 2 - 1,
        torch.randint(0, 2, (ROWS, 2)).float(),
    ], dim=1)
    y = torch.tensor([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=torch.float32)
    n1 = float(y.sum())
    n0 = ROWS - n1
    # sklearn 'balanced': n / (2 * n_class), rounded to float32 as kmlb does.
    class_weight = [float(np.float32(ROWS / (2.0 * n0))), float(np.float32(ROWS / (2.0 * n1)))]
    return layers, x, y, class_weight


def forward(layers, x):
    a = x
    for i, (w, b) in enumerate(layers):
        a = a @ w.T + b
        if i + 1 < len(layers):
            a = torch.relu(a)
    return a.reshape(-1)


def loss_fn(layers, x, y, class_weight):
    z = forward(layers, x)
    w = torch.where(y > 0, f32(class_weight[1]), f32(class_weight[0]))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, y, weight=w, reduction="sum")
    l2 = sum((wt * wt).sum() for wt, _ in layers)
    return bce / ROWS + f32(L2) * l2, z


def flat(layers, attr=None):
    out = []
    for w, b in layers:
        for t in (w, b):
            out += floats(t.grad if attr == "grad" else t)
    return out


def keras_adam_steps(layers, x, y, class_weight):
    b1, b2, eps = np.float32(BETA1), np.float32(BETA2), np.float32(EPS)
    one = np.float32(1.0)
    omb1, omb2 = one - b1, one - b2  # float32 arithmetic, as in C++
    params = [t for layer in layers for t in layer]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    history = []
    for t in range(1, ADAM_STEPS + 1):
        for p in params:
            p.grad = None
        loss, _ = loss_fn(layers, x, y, class_weight)
        loss.backward()
        lr_t = np.float32(float(np.float32(LR)) * math.sqrt(1.0 - float(b2) ** t) /
                          (1.0 - float(b1) ** t))
        with torch.no_grad():
            for i, p in enumerate(params):
                g = p.grad
                m[i] = f32(b1) * m[i] + f32(omb1) * g
                v[i] = f32(b2) * v[i] + f32(omb2) * (g * g)
                p -= (f32(lr_t) * m[i]) / (torch.sqrt(v[i]) + f32(eps))
        history.append([float(q) for p in params for q in p.detach().reshape(-1).tolist()])
    return history


def write_case(path, hidden, seed):
    layers, x, y, class_weight = make_case(hidden, seed)
    params0 = flat(layers)
    loss, z = loss_fn(layers, x, y, class_weight)
    loss.backward()
    grad = flat(layers, "grad")
    steps = keras_adam_steps(layers, x, y, class_weight)
    doc = {
        "generator": "tools/torch_golden.py",
        "torch_version": torch.__version__,
        "inputs": 15,
        "hidden": hidden,
        "l2": L2,
        "adam": {"learning_rate": LR, "beta1": BETA1, "beta2": BETA2, "epsilon": EPS},
        "class_weight": class_weight,
        "params": params0,
        "x": floats(x),
        "y": [int(v) for v in y.tolist()],
        "logits": floats(z),
        "loss": float(loss),
        "grad": grad,
        # After the first and after the last step (keeps the fixture small).
        "params_after_adam_step_1": steps[0],
        f"params_after_adam_step_{ADAM_STEPS}": steps[-1],
        "adam_steps": ADAM_STEPS,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(params0)} parameters, loss {float(loss):.6f}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(here, "..", "tests", "data"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    write_case(os.path.join(args.out_dir, "golden_mlp_15_15_12_10.json"), [15, 12, 10], 1)
    write_case(os.path.join(args.out_dir, "golden_mlp_15_10.json"), [10], 2)


if __name__ == "__main__":
    main()
