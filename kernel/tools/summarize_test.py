#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of kernel/tools/summarize.py on hand-made guest files: the
/proc/schedstat reading (field positions of versions 15, 16 and 17), the run-queue
histograms, the per-run benchmark files, and bad input (exit 65 with file
and line). Run: python3 kernel/tools/summarize_test.py"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import summarize  # noqa: E402


def domain_line(n, fields, version=15):
    name = " MC" if version >= 17 else ""  # 17 names the domain
    return "domain%d%s 0f %s\n" % (n, name, " ".join(str(x) for x in fields))


def schedstat(domains, version=15):
    """A /proc/schedstat of one CPU with the given domain counter lists."""
    s = "version %d\ntimestamp 4294892296\n" % version
    s += "cpu0 0 0 100 40 90 30 123456 7890 60\n"
    for i, d in enumerate(domains):
        s += domain_line(i, d, version)
    return s


def numbered(base, n=36):
    """n counters (36; 45 in version 17), each distinct: a wrong field position changes a sum."""
    return [base + 1000 * (i + 1) for i in range(n)]


def write(d, name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    return os.path.join(d, name)


class SchedstatTest(unittest.TestCase):
    def test_field_positions(self):
        for version in (15, 16):  # 16 (6.10+) reorders idle types, newly idle stays third
            self.check_field_positions(version)

    def check_field_positions(self, version):
        with tempfile.TemporaryDirectory() as d:
            p = write(d, "s.txt", schedstat([numbered(0), numbered(7)], version=version))
            s = summarize.read_schedstat(p)
        # 1-based fields of Documentation/scheduler/sched-stats.rst: lb_gained
        # 5, 13, 21; lb_count 1, 9, 17; lb_failed 3, 11, 19; lb_hot_gained 6,
        # 14, 22; alb_pushed 27; ttwu_move_affine 35; two domains (+0, +7)
        def f(*fields):
            return sum(2 * 1000 * k + 7 for k in fields)
        self.assertEqual(s["lb_gained"], f(5, 13, 21))
        self.assertEqual(s["lb_count"], f(1, 9, 17))
        self.assertEqual(s["lb_failed"], f(3, 11, 19))
        self.assertEqual(s["lb_hot_gained"], f(6, 14, 22))
        self.assertEqual(s["alb_pushed"], f(27))
        self.assertEqual(s["ttwu_move_affine"], f(35))
        self.assertEqual(s["lb_count_newly_idle"], f(17))
        self.assertEqual(s["lb_gained_newly_idle"], f(21))

    def test_field_positions_17(self):
        # 17: lb_imbalance split in four (11 per idle type), the domain named
        with tempfile.TemporaryDirectory() as d:
            p = write(d, "s.txt", schedstat([numbered(0, 45), numbered(7, 45)], version=17))
            s = summarize.read_schedstat(p)

        def f(*fields):
            return sum(2 * 1000 * k + 7 for k in fields)
        # 1-based: lb_count 1, 12, 23; lb_failed 3, 14, 25; lb_gained 8, 19,
        # 30; lb_hot_gained 9, 20, 31; alb_pushed 36; ttwu_move_affine 44
        self.assertEqual(s["lb_count"], f(1, 12, 23))
        self.assertEqual(s["lb_failed"], f(3, 14, 25))
        self.assertEqual(s["lb_gained"], f(8, 19, 30))
        self.assertEqual(s["lb_hot_gained"], f(9, 20, 31))
        self.assertEqual(s["alb_pushed"], f(36))
        self.assertEqual(s["ttwu_move_affine"], f(44))
        self.assertEqual(s["lb_count_newly_idle"], f(23))
        self.assertEqual(s["lb_gained_newly_idle"], f(30))
        # a version 16 line (no name, 36 counters) under version 17 is refused
        with tempfile.TemporaryDirectory() as d:
            text = schedstat([numbered(0, 45)], version=17).replace(" MC ", " ")
            with self.assertRaises(summarize.BadInput):
                summarize.read_schedstat(write(d, "bad.txt", text))

    def test_delta_and_migrations(self):
        zero = [0] * 36
        moved = list(zero)
        moved[4], moved[12], moved[20], moved[26] = 3, 5, 11, 2   # gained x3, pushed
        moved[0] = 40                                                # lb_count
        with tempfile.TemporaryDirectory() as d:
            a = write(d, "a.txt", schedstat([zero, zero]))
            b = write(d, "b.txt", schedstat([moved, zero]))
            dl = summarize.schedstat_delta(a, b)
            self.assertEqual(dl["migrations"], 3 + 5 + 11 + 2)
            self.assertEqual(dl["lb_count"], 40)
            # a later dump must not go down
            with self.assertRaises(summarize.BadInput):
                summarize.schedstat_delta(b, a)
            self.assertIsNone(summarize.schedstat_delta(a, os.path.join(d, "none.txt")))

    def test_bad_schedstat(self):
        with tempfile.TemporaryDirectory() as d:
            for text, what in ((schedstat([numbered(0)], version=18), "version"),
                               (schedstat([numbered(0)[:35]]), "35 counters"),
                               ("cpu0 1 2 3\n", "no 'version'"),
                               (schedstat([numbered(0)[:35] + ["x"]]), "integer")):
                p = write(d, "bad.txt", text)
                with self.assertRaises(summarize.BadInput) as e:
                    summarize.read_schedstat(p)
                self.assertIn("bad.txt:", str(e.exception))
                self.assertIn(what, str(e.exception))


class NativePathTest(unittest.TestCase):
    def test_paths_parse_and_pool(self):
        with tempfile.TemporaryDirectory() as d:
            a = write(d, "a.txt", "calls 9\nnative_path.cache_cold 3 210 70 70\n"
                      "native_path.running 2 90 44 46\nhist.cmt_native_tsc 44 1\n")
            b = write(d, "b.txt", "native_path.cache_cold 1 77 77 77\n")
            sa, sb = summarize.read_stats(a), summarize.read_stats(b)
        self.assertEqual(sa["kv"]["calls"], 9)
        self.assertEqual(sa["paths"]["running"], {"count": 2, "sum": 90, "min": 44, "max": 46})
        pooled = {}
        summarize.merge_paths(pooled, sa["paths"])
        summarize.merge_paths(pooled, sb["paths"])
        out = summarize.path_summary(pooled)
        self.assertEqual(out["cache_cold"], {"count": 4, "mean": 71.75, "min": 70, "max": 77})
        self.assertEqual(out["running"]["mean"], 45.0)


class RqTest(unittest.TestCase):
    def test_histograms(self):
        with tempfile.TemporaryDirectory() as d:
            p = write(d, "rq.txt", "samples 5\nmaxdiff 0 2\nmaxdiff 3 3\ntotal 8 5\n"
                      "stranded 0 4\nstranded 2 1\n")
            rq = summarize.read_rq(p)
            self.assertEqual(rq["samples"], 5)
            self.assertEqual(rq["maxdiff"], {0: 2, 3: 3})
            self.assertEqual(rq["stranded"], {0: 4, 2: 1})
            h = summarize.int_hist_summary(rq["stranded"])
            self.assertEqual((h["samples"], h["mean"], h["max"]), (5, 0.4, 2))
            p = write(d, "rq.txt", "samples 5\nstranded two 1\n")
            with self.assertRaises(summarize.BadInput) as e:
                summarize.read_rq(p)
            self.assertIn("rq.txt:2", str(e.exception))


def stats_text(decisions, overrides, calls):
    return ("calls %d\ndecisions %d\nagreements %d\noverrides %d\n"
            "reason.smt_siblings %d\n" % (calls, decisions, decisions - overrides,
                                          overrides, decisions))


class BenchTest(unittest.TestCase):
    def make_guest(self, d):
        g = os.path.join(d, "guest")
        os.makedirs(g)
        lines = []
        times = {("off", 1): 1000, ("substitute", 1): 1100, ("off", 2): 1010,
                 ("substitute", 2): 1090, ("off", 3): 990, ("substitute", 3): 1120}
        for (cfg, rep), t in sorted(times.items()):
            lines.append("fibo %s %d elapsed_ns %d result 7\n" % (cfg, rep, t * 1000))
            base = "bench-fibo-%s-%d" % (cfg, rep)
            write(g, base + "-stats.txt", stats_text(10 * rep, rep if cfg != "off" else 0,
                                                      20 * rep))
            write(g, base + "-rq.txt", "samples 2\nmaxdiff 1 2\ntotal 4 2\nstranded %d 2\n"
                  % (1 if cfg == "off" else 0))
            moved = [0] * 36
            moved[4] = rep + (10 if cfg == "off" else 0)
            write(g, base + "-schedstat-0.txt", schedstat([[0] * 36]))
            write(g, base + "-schedstat-1.txt", schedstat([moved]))
        write(g, "bench.txt", "".join(lines))
        return g

    def test_per_run_files(self):
        with tempfile.TemporaryDirectory() as d:
            g = self.make_guest(d)
            seen = []
            b = summarize.summarize_benchmarks(g, "substitute", seen.append)["fibo"]
        self.assertEqual(b["native"]["runs_s"], [1e-3, 1.01e-3, 0.99e-3])
        self.assertEqual(b["native"]["median_s"], 0.001)
        self.assertAlmostEqual(b["native"]["spread"], 0.02, places=4)
        self.assertAlmostEqual(b["ratio"], 1.1 / 1.0, places=3)
        # the model's counters: model-mode runs only, summed over the runs
        self.assertEqual(len(seen), 3)
        self.assertEqual(b["model"]["counters"]["overrides"], 1 + 2 + 3)
        self.assertEqual(b["model"]["counters"]["decisions"], 60)
        self.assertEqual(b["native"]["counters"]["overrides"], 0)
        self.assertEqual(b["native"]["schedstat"]["migrations"], 11 + 12 + 13)
        self.assertEqual(b["model"]["schedstat"]["migrations"], 1 + 2 + 3)
        self.assertEqual(b["native"]["rq_stranded"]["mean"], 1.0)
        self.assertEqual(b["model"]["rq_stranded"]["mean"], 0.0)

    def test_bad_bench_line_exits_65(self):
        with tempfile.TemporaryDirectory() as d:
            g = self.make_guest(d)
            with open(os.path.join(g, "bench.txt"), "a") as f:
                f.write("fibo substitute 4 elapsed_ns soon result 7\n")
            r = subprocess.run([sys.executable, os.path.join(HERE, "summarize.py"), "--dir", d,
                                "--mode", "substitute", "--seconds", "1"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 65, r.stderr)
            self.assertIn("bench.txt:7", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "summary.json")))

    def test_whole_summary(self):
        with tempfile.TemporaryDirectory() as d:
            self.make_guest(d)
            r = subprocess.run([sys.executable, os.path.join(HERE, "summarize.py"), "--dir", d,
                                "--mode", "substitute", "--seconds", "1", "--timing", "icount"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            s = json.load(open(os.path.join(d, "summary.json")))
        # bench runs in model mode count in the run's totals
        self.assertEqual(s["overrides"], 6)
        self.assertEqual(s["decisions"], 60)
        self.assertEqual(s["benchmarks"]["fibo"]["model"]["schedstat"]["migrations"], 6)


if __name__ == "__main__":
    unittest.main()
