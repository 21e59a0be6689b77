#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The side effects of models run in the kernel's place, side by side.

    side_effects.py --run NAME=DIR [--run NAME=DIR ...] [--out DIR]

Each DIR is the output of one `kernel/deploy.sh --mode substitute` run (its
summary.json, written by summarize.py). For every run: what the model did
to the kernel's decisions (decisions, agreement with the kernel's decision
as the module recomputes it, overrides and which way), the balancer's migrations (/proc/schedstat, runs
with --schedstats), the run-queue distributions (max - min across CPUs:
Chen et al.'s Figure 5; CPUs left idle while tasks wait), in the load
phases and in the benchmark runs, and each benchmark's runtime, with the
module off and with the model, with the spread of the repetitions
((max - min) / median) and the ratio of the medians. A ratio is "read"
only when it lies outside both spreads.

Writes the table (Markdown) on stdout; with --out also side_effects.json,
rq.dat (the distributions) and, when gnuplot is installed, rq.svg and
runtimes.svg. Exit 0, 2 usage, 65 bad summary, 66 missing summary, 74
write error.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_IOERR = 2, 65, 66, 74


class Failure(Exception):
    def __init__(self, code, msg):
        Exception.__init__(self, msg)
        self.code = code


def need(obj, path, where):
    """obj[path[0]][path[1]]...: a Failure naming the file and key when absent."""
    cur = obj
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            raise Failure(EX_DATAERR, "%s: no field %s" % (where, ".".join(path)))
        cur = cur[k]
    return cur


def load_run(name, d):
    path = os.path.join(d, "summary.json")
    if not os.path.exists(path):
        raise Failure(EX_NOINPUT, "%s: no summary.json (run %s)" % (path, name))
    try:
        with open(path) as f:
            s = json.load(f)
    except ValueError as e:
        raise Failure(EX_DATAERR, "%s: not JSON: %s" % (path, e))
    if s.get("schema") != "kmlb-deploy-summary":
        raise Failure(EX_DATAERR, "%s: field schema is not kmlb-deploy-summary" % path)
    if need(s, ["mode"], path) != "substitute":
        raise Failure(EX_DATAERR, "%s: mode %s: side effects are measured in substitute mode"
                      % (path, s["mode"]))
    return s, path, model_line(d)


def model_line(d):
    """'MLP 15-15-12-10-1, feature set seed, hash ...' from the run's header."""
    h = os.path.join(d, "model", "kmlb_model.h")
    if not os.path.exists(h):
        return ""
    shape = fs = mh = ""
    for line in open(h):
        line = line.strip(" */\n")
        if line.startswith("Model:"):
            shape = line.split(":", 1)[1].strip()
        elif line.startswith("Model hash:"):
            mh = line.split(":", 1)[1].split()[0]
        elif line.startswith("#define KMLB_FEATURE_SET"):
            fs = line.split()[-1].strip('"')
    return ", ".join(x for x in (shape, mh and "hash " + mh) if x) or fs


def pct(x):
    return "–" if x is None else "%.2f %%" % (100 * x)


def fmt_ratio(r):
    return "–" if r is None else "x%.4f" % r


def readable(b):
    """The ratio lies outside both configurations' spreads."""
    r = b.get("ratio")
    sn = (b.get("native") or {}).get("spread")
    sm = (b.get("model") or {}).get("spread")
    if r is None or sn is None or sm is None:
        return None
    return abs(r - 1) > max(sn, sm)


def pooled_phases(s):
    """Load phases pooled over loads: counters and migrations per config."""
    out = {"native": {"migrations": None, "lb_count": None}, "model": {"migrations": None,
                                                                      "lb_count": None}}
    for ph in s.get("phases", []):
        cfg = ph.get("config")
        if cfg not in out:
            continue
        ss = ph.get("schedstat")
        if ss:
            for k in ("migrations", "lb_count"):
                out[cfg][k] = (out[cfg][k] or 0) + ss[k]
    return out


def rq_cell(h):
    if not h or not h.get("samples"):
        return "–"
    return "%.2f (p90 %d)" % (h["mean"], h["p90"])


def stranded_share(h):
    """Share of samples with at least one CPU idle while a task waits."""
    if not h or not h.get("samples"):
        return None
    zero = h.get("histogram", {}).get("0", 0)
    return (h["samples"] - zero) / h["samples"]


def arrow(a, b, f=str):
    if a is None and b is None:
        return "–"
    return "%s → %s" % ("–" if a is None else f(a), "–" if b is None else f(b))


def table(runs):
    names = [n for n, _, _, _ in runs]
    rows = []

    def row(label, cells):
        rows.append("| %s | %s |" % (label, " | ".join(cells)))

    rows.append("| | %s |" % " | ".join("**%s**" % n for n in names))
    rows.append("|---|%s|" % "|".join("---:" for _ in names))
    row("model", [m or "–" for _, _, _, m in runs])
    row("kernel", [need(s, ["run", "kernel"], p) for _, s, p, _ in runs])
    row("decisions, load phases + model-mode benchmark runs (agreement with the kernel)",
        ["%d (%s)" % (s["decisions"], pct(s["agreement"])) for _, s, _, _ in runs])
    row("of which overrides: to refuse / to migrate",
        ["%d / %d" % (s["overrides"] - s["overrides_to_migrate"], s["overrides_to_migrate"])
         for _, s, _, _ in runs])
    row("disagreements by the kernel's reason",
        [", ".join("%s %d" % kv for kv in sorted(s["disagreements_by_reason"].items()))
         or "none" for _, s, _, _ in runs])
    cells = []
    for _, s, _, _ in runs:
        ph = pooled_phases(s)
        cells.append(arrow(ph["native"]["migrations"], ph["model"]["migrations"]))
    row("load phases: balancer migrations, off → model", cells)
    row("load phases: rq max − min, mean (p90), off → model (Fig. 5)",
        [arrow(rq_cell(s["rq_maxdiff"]["native"]), rq_cell(s["rq_maxdiff"]["model"]))
         for _, s, _, _ in runs])
    row("load phases: samples with a CPU idle while a task waits, off → model",
        [arrow(stranded_share((s.get("rq_stranded") or {}).get("native")),
               stranded_share((s.get("rq_stranded") or {}).get("model")), pct)
         for _, s, _, _ in runs])
    benches = []
    for _, s, _, _ in runs:
        for b in s.get("benchmarks", {}):
            if b not in benches:
                benches.append(b)
    for b in benches:
        cells, ov, mig, rd, nid = [], [], [], [], []
        for _, s, _, _ in runs:
            x = s.get("benchmarks", {}).get(b)
            if not x or "native" not in x or "model" not in x:
                cells.append("–")
                ov.append("–")
                mig.append("–")
                rd.append("–")
                nid.append("–")
                continue
            n, m = x["native"], x["model"]
            cells.append("%.4f (%s) → %.4f (%s): %s" % (
                n["median_s"], pct(n["spread"]), m["median_s"], pct(m["spread"]),
                fmt_ratio(x.get("ratio"))))
            c = m.get("counters")
            ov.append("%d of %d" % (c.get("overrides", 0), c.get("decisions", 0)) if c else "–")
            mig.append(arrow((n.get("schedstat") or {}).get("migrations"),
                             (m.get("schedstat") or {}).get("migrations")))
            nn, mn = n.get("schedstat") or {}, m.get("schedstat") or {}
            nid.append("%s → %s" % tuple(
                "%d / %d" % (z["lb_count_newly_idle"], z["lb_gained_newly_idle"])
                if "lb_count_newly_idle" in z else "–" for z in (nn, mn)))
            r = readable(x)
            res = max(n["spread"], m["spread"])
            rd.append("%s (resolution %s)" % ("–" if r is None else ("effect" if r else
                                                                       "no effect"), pct(res)))
        nrep = max((len(s["benchmarks"][b]["native"]["runs_s"]) for _, s, _, _ in runs
                    if b in s.get("benchmarks", {})), default=0)
        row("`%s`: virtual s, median (spread of %d) off → model: ratio" % (b, nrep), cells)
        row("`%s`: overrides of decisions (model runs)" % b, ov)
        row("`%s`: balancer migrations, off → model (all runs)" % b, mig)
        row("`%s`: newly-idle balancing: calls / pulls, off → model" % b, nid)
        row("`%s`: ratio outside both spreads" % b, rd)
    return "\n".join(rows) + "\n"


def rq_dat(runs):
    """Columns: value, then per run the off and model shares of samples."""
    keys = set()
    for _, s, _, _ in runs:
        for cfg in ("native", "model"):
            keys.update(int(k) for k in s["rq_maxdiff"][cfg].get("histogram", {}))
    lines = ["# rq max-min; per run: share of samples, module off and model: " +
             " ".join("%s_off %s_model" % (n, n) for n, _, _, _ in runs)]
    for k in sorted(keys):
        cells = [str(k)]
        for _, s, _, _ in runs:
            for cfg in ("native", "model"):
                h = s["rq_maxdiff"][cfg]
                n = h.get("samples") or 0
                cells.append("%.4f" % (h.get("histogram", {}).get(str(k), 0) / n if n else 0))
        lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


def bench_dat(runs):
    lines = ["# run bench off_median off_min off_max model_median model_min model_max (s)"]
    for n, s, _, _ in runs:
        for b, x in s.get("benchmarks", {}).items():
            if "native" in x and "model" in x:
                lines.append("%s-%s %s %s" % (n, b, " ".join(
                    "%.7f" % x[c][k] for c in ("native", "model")
                    for k in ("median_s", "min_s", "max_s")), b))
    return "\n".join(lines) + "\n"


def write_atomic(path, text):
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise Failure(EX_IOERR, "%s: %s" % (path, e.strerror))


def plot_script(out, runs, term, ext):
    series = ["%s, %s" % (n, c) for n, _, _, _ in runs for c in ("off", "model")]
    rq = ", ".join("%s using %d%s title '%s'" % ("'%s/rq.dat'" % out if i == 0 else "''",
                                                  i + 2, ":xtic(1)" if i == 0 else "", t)
                   for i, t in enumerate(series))
    return (
        "set terminal %s size 900,420\nset output '%s/rq.%s'\n"
        "set title 'run-queue length max - min across CPUs, load phases (Chen et al. Fig. 5)'\n"
        "set style data histogram\nset style histogram clustered\nset style fill solid 0.8\n"
        "set xlabel 'max - min of nr\\_running'\nset ylabel 'share of samples'\nplot %s\n"
        "set output '%s/runtimes.%s'\nunset style\nset style data points\n"
        "set title 'benchmark runtime / median with the module off (points: median of the runs, "
        "bars: min-max)'\nset xlabel ''\nset ylabel 'runtime / median off'\n"
        "set xtics rotate by -30\nset offsets 0.5, 0.5, 0, 0\nset rmargin 10\n"
        "plot '%s/bench.dat' using 0:($2/$2):($3/$2):($4/$2):xtic(1) with yerrorbars "
        "title 'module off', '' using ($0+0.2):($5/$2):($6/$2):($7/$2) with yerrorbars "
        "title 'model', 1 with lines lc 'gray' notitle\n"
        % (term, out, ext, rq, out, ext, out))


def plots(out, runs):
    """rq and runtimes plots as SVG and PNG (gnuplot), or none."""
    if not shutil.which("gnuplot"):
        return []
    made = []
    for term, ext in (("svg", "svg"), ("pngcairo", "png")):
        r = subprocess.run(["gnuplot"], input=plot_script(out, runs, term, ext),
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("side_effects: gnuplot failed (no %s plots): %s" % (ext, r.stderr.strip()),
                  file=sys.stderr)
            continue
        made += ["rq." + ext, "runtimes." + ext]
    return made


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="NAME=DIR")
    ap.add_argument("--out", help="directory for side_effects.json, rq.dat, plots")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return EX_USAGE if e.code else 0
    try:
        runs = []
        for spec in a.run:
            if "=" not in spec or not spec.split("=", 1)[0]:
                raise Failure(EX_USAGE, "--run %r: expected NAME=DIR" % spec)
            name, d = spec.split("=", 1)
            s, p, m = load_run(name, d)
            if str(s.get("run", {}).get("guest", {}).get("invert")) == "1":
                m += ", output inverted (kmlb.invert=1)"
            for k in ("decisions", "agreement", "overrides", "overrides_to_migrate",
                      "disagreements_by_reason", "rq_maxdiff"):
                need(s, [k], p)
            runs.append((name, s, p, m))
        text = table(runs)
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            write_atomic(os.path.join(a.out, "side_effects.md"), text)
            write_atomic(os.path.join(a.out, "rq.dat"), rq_dat(runs))
            write_atomic(os.path.join(a.out, "bench.dat"), bench_dat(runs))
            made = plots(a.out, runs)
            write_atomic(os.path.join(a.out, "side_effects.json"), json.dumps({
                "schema": "kmlb-side-effects", "schema_version": 1,
                "runs": [{"name": n, "summary": p, "model": m,
                          "benchmarks": {b: {"ratio": x.get("ratio"), "readable": readable(x)}
                                         for b, x in s.get("benchmarks", {}).items()}}
                         for n, s, p, m in runs],
                "plots": made}, indent=2) + "\n")
    except Failure as e:
        print("side_effects: %s" % e, file=sys.stderr)
        return e.code
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
