#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of kernel/tools/side_effects.py on hand-made summaries: the table's
figures (overrides each way, pooled migrations, the share of samples with a
CPU idle while a task waits, ratios and whether they are read), and bad
input. Run: python3 kernel/tools/side_effects_test.py"""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import side_effects  # noqa: E402


def hist(counts):
    n = sum(counts.values())
    mean = sum(k * c for k, c in counts.items()) / n
    return {"samples": n, "mean": round(mean, 3), "p50": 0, "p90": max(counts), "p99": 0,
            "max": max(counts), "histogram": {str(k): c for k, c in sorted(counts.items())}}


def bench(off, model, decisions=50, overrides=5):
    def cfg(xs, mig):
        med = sorted(xs)[len(xs) // 2]
        return {"runs_s": xs, "median_s": med, "min_s": min(xs), "max_s": max(xs),
                "spread": round((max(xs) - min(xs)) / med, 4),
                "schedstat": {"migrations": mig, "lb_count": 100, "lb_count_newly_idle": mig * 3,
                              "lb_gained_newly_idle": mig - 5}}
    b = {"native": cfg(off, 30), "model": cfg(model, 20)}
    b["model"]["counters"] = {"overrides": overrides, "decisions": decisions}
    b["ratio"] = round(b["model"]["median_s"] / b["native"]["median_s"], 4)
    return b


def summary(**kw):
    s = {"schema": "kmlb-deploy-summary", "mode": "substitute", "decisions": 1000,
         "agreement": 0.97, "overrides": 30, "overrides_to_migrate": 4,
         "disagreements_by_reason": {"smt_siblings.kernel1": 26, "cache_hot.kernel0": 4},
         "run": {"kernel": "6.1.0-57-amd64"},
         "rq_maxdiff": {"native": hist({0: 6, 2: 4}), "model": hist({1: 5, 3: 5})},
         "rq_stranded": {"native": hist({0: 8, 1: 2}), "model": hist({0: 5, 2: 5})},
         "phases": [
             {"config": "native", "load_pct": 100, "schedstat": {"migrations": 70, "lb_count": 9}},
             {"config": "model", "load_pct": 100, "schedstat": {"migrations": 50, "lb_count": 9}},
             {"config": "native", "load_pct": 200, "schedstat": {"migrations": 30, "lb_count": 9}},
             {"config": "model", "load_pct": 200, "schedstat": {"migrations": 25, "lb_count": 9}}],
         # a 10 % effect with 2 % spreads; a 1 % change inside 3 % spreads; a
         # 4 % change outside the module-off spread (1 %), inside the model's (6 %)
         "benchmarks": {"compute": bench([1.00, 1.01, 0.99], [1.10, 1.11, 1.09]),
                        "fibo": bench([0.10, 0.103, 0.100], [0.101, 0.098, 0.101]),
                        "memory": bench([1.00, 1.005, 0.995], [1.04, 1.01, 1.072])}}
    s.update(kw)
    return s


def run_tool(args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = side_effects.main(args)
    return code, out.getvalue(), err.getvalue()


def make(d, name, s):
    p = os.path.join(d, name)
    os.makedirs(p)
    with open(os.path.join(p, "summary.json"), "w") as f:
        json.dump(s, f)
    return p


class TableTest(unittest.TestCase):
    def test_figures(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run_tool(["--run", "seed=" + make(d, "a", summary()),
                                       "--out", os.path.join(d, "o")])
            self.assertEqual(code, 0, err)
            rows = {line.split(" | ")[0].strip("| "): line for line in out.splitlines()}
            with open(os.path.join(d, "o", "side_effects.json")) as f:
                j = json.load(f)
        self.assertIn("| 26 / 4 |", rows["of which overrides: to refuse / to migrate"])
        self.assertIn("| 100 → 75 |", rows["load phases: balancer migrations, off → model"])
        self.assertIn("20.00 % → 50.00 %", rows[
            "load phases: samples with a CPU idle while a task waits, off → model"])
        self.assertIn("x1.1000", rows["`compute`: virtual s, median (spread of 3) off → model: ratio"])
        self.assertIn("| effect (resolution 2.00 %) |", rows["`compute`: ratio outside both spreads"])
        self.assertIn("| no effect (resolution 3.00 %) |", rows["`fibo`: ratio outside both spreads"])
        self.assertIn("| no effect (resolution 5.96 %) |", rows["`memory`: ratio outside both spreads"])
        self.assertIn("| 5 of 50 |", rows["`fibo`: overrides of decisions (model runs)"])
        self.assertIn("| 30 → 20 |", rows["`fibo`: balancer migrations, off → model (all runs)"])
        self.assertIn("| 90 / 25 → 60 / 15 |",
                      rows["`fibo`: newly-idle balancing: calls / pulls, off → model"])
        self.assertEqual(j["runs"][0]["benchmarks"]["compute"]["readable"], True)
        self.assertEqual(j["runs"][0]["benchmarks"]["fibo"]["readable"], False)

    def test_inverted_run_named(self):
        with tempfile.TemporaryDirectory() as d:
            s = summary()
            s["run"]["guest"] = {"invert": "1"}
            code, out, err = run_tool(["--run", "inv=" + make(d, "a", s)])
            self.assertEqual(code, 0, err)
        self.assertIn("output inverted", out.splitlines()[2])

    def test_rq_dat_shares(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run_tool(["--run", "x=" + make(d, "a", summary()),
                                     "--out", os.path.join(d, "o")])
            self.assertEqual(code, 0, err)
            with open(os.path.join(d, "o", "rq.dat")) as f:
                lines = [ln.split() for ln in f if not ln.startswith("#")]
        self.assertEqual(lines, [["0", "0.6000", "0.0000"], ["1", "0.0000", "0.5000"],
                                 ["2", "0.4000", "0.0000"], ["3", "0.0000", "0.5000"]])

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run_tool(["--run", "x=" + os.path.join(d, "none")])
            self.assertEqual(code, 66)
            self.assertIn("summary.json", err)
            code, _, err = run_tool(["--run", "x=" + make(d, "shadow", summary(mode="shadow"))])
            self.assertEqual(code, 65)
            self.assertIn("substitute", err)
            s = summary()
            del s["rq_maxdiff"]
            code, _, err = run_tool(["--run", "x=" + make(d, "norq", s)])
            self.assertEqual(code, 65)
            self.assertIn("rq_maxdiff", err)
            code, _, err = run_tool(["--run", "nodir"])
            self.assertEqual(code, 2)
            p = make(d, "broken", {})
            with open(os.path.join(p, "summary.json"), "w") as f:
                f.write("{not json")
            code, _, err = run_tool(["--run", "x=" + p, "--out", os.path.join(d, "o2")])
            self.assertEqual(code, 65)
            self.assertFalse(os.path.exists(os.path.join(d, "o2", "side_effects.md")))


if __name__ == "__main__":
    unittest.main()
