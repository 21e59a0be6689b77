#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's files (DIR/guest/) into DIR/summary.json.

Called by kernel/deploy.sh. Inputs written by kernel/guest/deploy_job.sh:
stats-<mode>-<load>.txt and rq-<mode>-<load>.txt per load phase (the
module's debugfs files), schedstat-<mode>-<load>-0/1.txt (/proc/schedstat
before and after it), bench.txt (one benchmark run a line) with
bench-<bench>-<mode>-<rep>-stats/rq/schedstat-0/schedstat-1.txt per run
(older runs: one stats-bench.txt), stats-switch.txt, stats-final.txt,
checks.txt, guest.env.

Migrations are the load balancer's, from /proc/schedstat (versions 15, 16, 17,
kernel.sched_schedstats=1, `deploy.sh --schedstats`): tasks pulled by
load_balance() (lb_gained, every domain and idle type) plus tasks pushed by
active balancing (alb_pushed). Bad input exits 65 naming file and line.

"native" is the kernel's own can_migrate_task() body, timed by the module
around its call (shadow/replace), or the module loaded with mode=off for
run-queue and benchmark figures; "model" is the run's mode (shadow, replace
or substitute). Costs are TSC ticks: under --timing icount these are
executed instructions (exact, deterministic); under TCG they are host-time
ticks, good only for ratios within a run. Percentiles are pooled over the
load phases from the module's log-linear histograms (16 buckets per power
of two: about 4 % resolution above 16).
"""
import argparse
import csv
import json
import math
import os
import re
import statistics
import sys

SCHEMA_VERSION = 2
SERIES = ["cmt_native_tsc", "cmt_substitute_tsc", "model_tsc", "cmt_shadow_tsc", "snapshot_tsc"]
COUNTERS = ["calls", "hard", "active", "heuristic", "decisions", "agreements",
            "heuristic_agreements", "overrides", "overrides_to_migrate", "substituted",
            "kernel_ran", "fallbacks", "teacher_mismatch", "side_checked",
            "side_mismatches", "audited", "hard_mismatches", "flipped_hard",
            "cmt_nmissed"]


def read_stats(path):
    """debugfs/kmlb/stats: 'key value' lines, 'hist.<series> lo count' and
    'native_path.<reason> count sum min max' (the kernel's body by path)."""
    kv, hist, paths = {}, {s: {} for s in SERIES}, {}
    if not os.path.exists(path):
        return None
    for line in open(path):
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith("hist."):
            s = parts[0][5:]
            hist.setdefault(s, {})[int(parts[1])] = int(parts[2])
        elif len(parts) == 5 and parts[0].startswith("native_path."):
            n, total, lo, hi = (int(x) for x in parts[1:])
            paths[parts[0][len("native_path."):]] = {"count": n, "sum": total, "min": lo, "max": hi}
        elif len(parts) == 2:
            try:
                kv[parts[0]] = int(parts[1])
            except ValueError:
                kv[parts[0]] = parts[1]
    return {"kv": kv, "hist": hist, "paths": paths}


def merge_paths(into, paths):
    """Pools per-path body costs: counts and sums add, min of mins, max of maxes."""
    for r, c in paths.items():
        t = into.setdefault(r, {"count": 0, "sum": 0, "min": None, "max": None})
        t["count"] += c["count"]
        t["sum"] += c["sum"]
        t["min"] = c["min"] if t["min"] is None else min(t["min"], c["min"])
        t["max"] = c["max"] if t["max"] is None else max(t["max"], c["max"])


def path_summary(paths):
    return {r: {"count": c["count"], "mean": round(c["sum"] / c["count"], 2) if c["count"] else None,
                "min": c["min"], "max": c["max"]} for r, c in sorted(paths.items())}


def read_kv(path):
    """kmlb_fntime output: 'key value' lines; None when missing or empty."""
    if not os.path.exists(path):
        return None
    kv = {}
    for line in open(path):
        p = line.split()
        if len(p) == 2 and p[1].isdigit():
            kv[p[0]] = int(p[1])
    return kv if kv.get("count") else None


RQ_HISTS = ("maxdiff", "total", "stranded")


def read_rq(path):
    """debugfs/kmlb/rq: 'samples N' and 'maxdiff|total|stranded VALUE COUNT'."""
    out = {"samples": 0}
    for h in RQ_HISTS:
        out[h] = {}
    if not os.path.exists(path):
        return out
    for n, line in enumerate(open(path), 1):
        p = line.split()
        if not p:
            continue
        try:
            if p[0] == "samples" and len(p) == 2:
                out["samples"] = int(p[1])
            elif p[0] in RQ_HISTS and len(p) == 3:
                out[p[0]][int(p[1])] = int(p[2])
            else:
                raise ValueError
        except ValueError:
            raise BadInput(path, n, "expected 'samples N' or '%s VALUE COUNT', got %r"
                           % ("|".join(RQ_HISTS), line.rstrip("\n")))
    return out


class BadInput(Exception):
    def __init__(self, path, line, what):
        Exception.__init__(self, "%s:%d: %s" % (path, line, what))


# /proc/schedstat version 15 (Linux 4.x to 6.9) and 16 (6.10 to 6.12), domain
# lines: the CPU mask, then 8 load_balance() counters for each idle type in
# enum order (15: CPU_IDLE, CPU_NOT_IDLE, CPU_NEWLY_IDLE; 16, the enum
# renumbered: not idle, CPU_IDLE, CPU_NEWLY_IDLE: newly idle stays third),
# then alb_count alb_failed alb_pushed, 3 sbe, 3 sbf, ttwu_wake_remote
# ttwu_move_affine ttwu_move_balance. Version 17 (6.15+, Debian's 7.3)
# split lb_imbalance into lb_imbalance_load/_util/_task/_misfit (11
# counters per idle type, in 16's order) and names the domain after
# "domainN", before the CPU mask (Documentation/scheduler/sched-stats.rst).
SCHEDSTAT_VERSIONS = ("15", "16", "17")
LB_FIELDS_BY_VERSION = {
    15: ("lb_count", "lb_balanced", "lb_failed", "lb_imbalance", "lb_gained",
         "lb_hot_gained", "lb_nobusyq", "lb_nobusyg"),
    17: ("lb_count", "lb_balanced", "lb_failed", "lb_imbalance_load", "lb_imbalance_util",
         "lb_imbalance_task", "lb_imbalance_misfit", "lb_gained", "lb_hot_gained",
         "lb_nobusyq", "lb_nobusyg"),
}
LB_FIELDS_BY_VERSION[16] = LB_FIELDS_BY_VERSION[15]
LB_FIELDS = LB_FIELDS_BY_VERSION[15]
# after the 3 idle types: alb_count alb_failed alb_pushed, 3 sbe, 3 sbf, 3 ttwu
ALB_PUSHED_AFTER_LB, TTWU_MOVE_AFFINE_AFTER_LB, TAIL_FIELDS = 2, 10, 12
SCHEDSTAT_DOMAIN_FIELDS = 3 * len(LB_FIELDS) + TAIL_FIELDS  # 36 (15, 16)
SCHEDSTAT_SUMS = ("lb_count", "lb_failed", "lb_gained", "lb_hot_gained", "alb_pushed",
                  "ttwu_move_affine", "lb_count_newly_idle", "lb_gained_newly_idle")


def read_schedstat(path):
    """Sums over every CPU's domains of /proc/schedstat; None when missing."""
    if not os.path.exists(path):
        return None
    sums = {k: 0 for k in SCHEDSTAT_SUMS}
    version = None
    for n, line in enumerate(open(path), 1):
        p = line.split()
        if not p:
            continue
        if p[0] == "version":
            if len(p) != 2 or p[1] not in SCHEDSTAT_VERSIONS:
                raise BadInput(path, n, "schedstat version %r, this reads versions 15 to 17"
                               % (p[1] if len(p) > 1 else ""))
            version = int(p[1])
        elif p[0].startswith("domain"):
            if version is None:
                raise BadInput(path, n, "domain line before the version line")
            lb = LB_FIELDS_BY_VERSION[version]
            want = 3 * len(lb) + TAIL_FIELDS
            first = 3 if version >= 17 else 2  # domainN [name] mask counters...
            if len(p) != first + want:
                raise BadInput(path, n, "domain line with %d counters, want %d"
                               % (len(p) - first, want))
            try:
                v = [int(x) for x in p[first:]]
            except ValueError:
                raise BadInput(path, n, "domain counter is not an integer")
            for idle in range(3):
                base = idle * len(lb)
                for name in ("lb_count", "lb_failed", "lb_gained", "lb_hot_gained"):
                    sums[name] += v[base + lb.index(name)]
            newly = 2 * len(lb)
            sums["lb_count_newly_idle"] += v[newly + lb.index("lb_count")]
            sums["lb_gained_newly_idle"] += v[newly + lb.index("lb_gained")]
            sums["alb_pushed"] += v[3 * len(lb) + ALB_PUSHED_AFTER_LB]
            sums["ttwu_move_affine"] += v[3 * len(lb) + TTWU_MOVE_AFFINE_AFTER_LB]
    if version is None:
        raise BadInput(path, 1, "no 'version' line: not /proc/schedstat")
    return sums


def schedstat_delta(before_path, after_path):
    """The balancer's counters between two /proc/schedstat dumps, or None."""
    a, b = read_schedstat(before_path), read_schedstat(after_path)
    if a is None or b is None:
        return None
    d = {k: b[k] - a[k] for k in SCHEDSTAT_SUMS}
    for k, v in d.items():
        if v < 0:
            raise BadInput(after_path, 1, "%s went down (%d -> %d): not a later dump of "
                           "the same boot" % (k, a[k], b[k]))
    d["migrations"] = d["lb_gained"] + d["alb_pushed"]
    return d


def bucket_width(lo):
    if lo < 16:
        return 1
    e = lo.bit_length() - 1
    return 1 << (e - 4)


def hist_percentile(hist, q):
    n = sum(hist.values())
    if n == 0:
        return None
    rank = (n - 1) * q
    seen = 0
    for lo in sorted(hist):
        seen += hist[lo]
        if seen > rank:
            return lo + bucket_width(lo) / 2.0
    lo = max(hist)
    return lo + bucket_width(lo) / 2.0


def hist_summary(hist):
    n = sum(hist.values())
    if n == 0:
        return {"count": 0}
    mean = sum((lo + bucket_width(lo) / 2.0) * c for lo, c in hist.items()) / n
    out = {"count": n, "mean": round(mean, 1)}
    for q in (10, 25, 50, 75, 90, 99):
        out["p%d" % q] = round(hist_percentile(hist, q / 100.0), 1)
    return out


def merge(dst, src):
    for k, v in src.items():
        dst[k] = dst.get(k, 0) + v


def int_hist_summary(h):
    n = sum(h.values())
    if n == 0:
        return {"samples": 0}
    xs = sorted(h)
    mean = sum(k * c for k, c in h.items()) / n

    def pct(q):
        rank, seen = (n - 1) * q, 0
        for k in xs:
            seen += h[k]
            if seen > rank:
                return k
        return xs[-1]

    return {"samples": n, "mean": round(mean, 3), "p50": pct(0.5), "p90": pct(0.9),
            "p99": pct(0.99), "max": xs[-1],
            "histogram": {str(k): h[k] for k in xs}}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 4)


def counters(kv):
    return {k: kv.get(k, 0) for k in COUNTERS}


def by_prefix(kv, prefix):
    return {k[len(prefix):]: v for k, v in kv.items()
            if k.startswith(prefix) and isinstance(v, int) and v}


def spread_summary(xs):
    """runs, median, min, max (s, to 100 ns) and (max - min) / median."""
    med = statistics.median(xs)
    return {"runs_s": [round(x, 7) for x in xs], "median_s": round(med, 7),
            "min_s": round(min(xs), 7), "max_s": round(max(xs), 7),
            "spread": round((max(xs) - min(xs)) / med, 4) if med else None}


def summarize_benchmarks(g, mode, add_model_stats):
    """bench.txt and the per-run files: per benchmark and configuration the
    runtimes with their spread, and the module's counters, run-queue samples
    and migrations summed over that configuration's runs."""
    runs = {}
    bpath = os.path.join(g, "bench.txt")
    if os.path.exists(bpath):
        for n, line in enumerate(open(bpath), 1):
            p = line.split()
            if not p:
                continue
            if len(p) < 5 or p[3] != "elapsed_ns" or not p[4].isdigit() or \
                    not p[2].isdigit():
                raise BadInput(bpath, n, "expected 'BENCH MODE REP elapsed_ns N ...', got %r"
                               % line.rstrip("\n"))
            if p[1] not in ("off", mode):
                raise BadInput(bpath, n, "mode %r is neither off nor %s" % (p[1], mode))
            cfg = "native" if p[1] == "off" else "model"
            r = runs.setdefault(p[0], {}).setdefault(cfg, {"s": [], "counters": {},
                                                           "rq": {h: {} for h in RQ_HISTS},
                                                           "schedstat": None})
            r["s"].append(int(p[4]) / 1e9)
            base = os.path.join(g, "bench-%s-%s-%s" % (p[0], p[1], p[2]))
            st = read_stats(base + "-stats.txt")
            if st:
                merge(r["counters"], counters(st["kv"]))
                if cfg == "model":
                    add_model_stats(st)
            rq = read_rq(base + "-rq.txt")
            for h in RQ_HISTS:
                merge(r["rq"][h], rq[h])
            ss = schedstat_delta(base + "-schedstat-0.txt", base + "-schedstat-1.txt")
            if ss is not None:
                if r["schedstat"] is None:
                    r["schedstat"] = {}
                merge(r["schedstat"], ss)
    benchmarks = {}
    for b, by in runs.items():
        out = {}
        for cfg, r in by.items():
            out[cfg] = spread_summary(r["s"])
            if r["counters"]:
                out[cfg]["counters"] = r["counters"]
            if any(r["rq"][h] for h in RQ_HISTS):
                for h in RQ_HISTS:
                    out[cfg]["rq_" + h] = int_hist_summary(r["rq"][h])
            if r["schedstat"] is not None:
                out[cfg]["schedstat"] = r["schedstat"]
        if "native" in out and "model" in out:
            out["ratio"] = ratio(out["model"]["median_s"], out["native"]["median_s"])
        benchmarks[b] = out
    return benchmarks


def read_csv_records(path):
    """The module's recorded side-effect mismatches (debugfs side_mismatches), as dicts."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    try:
        summarize(parse_args())
    except BadInput as e:
        print("summarize: %s" % e, file=sys.stderr)
        sys.exit(65)


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--header-kind", default="")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--wall", type=float, default=0)
    ap.add_argument("--build-seconds", type=float, default=0)
    ap.add_argument("--attempts", type=int, default=1)
    ap.add_argument("--crashed-boots", type=int, default=0,
                    help="boots in which the guest kernel crashed (a failure)")
    ap.add_argument("--stalled-boots", type=int, default=0,
                    help="boots that stalled before init (retried)")
    ap.add_argument("--timing", default="tcg")
    ap.add_argument("--soak", type=int, default=0)
    return ap.parse_args(argv)


def summarize(a):
    g = os.path.join(a.dir, "guest")
    mode = a.mode

    env = {}
    if os.path.exists(os.path.join(g, "guest.env")):
        for line in open(os.path.join(g, "guest.env")):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    loads = sorted({int(m.group(1)) for f in os.listdir(g) if os.path.isdir(g)
                    for m in [re.match(r"stats-off-(\d+)\.txt$", f)] if m}) \
        if os.path.isdir(g) else []

    phases = []
    pooled = {cfg: {s: {} for s in SERIES} for cfg in ("native", "model")}
    body_paths = {}  # the kernel's body by path, wherever the module timed it
    rq_pool = {cfg: {h: {} for h in RQ_HISTS} for cfg in ("native", "model")}
    totals = {}
    reasons, disagree, fallback = {}, {}, {}
    for load in loads:
        for cfg, name in (("native", "off"), ("model", mode)):
            st = read_stats(os.path.join(g, "stats-%s-%d.txt" % (name, load)))
            rq = read_rq(os.path.join(g, "rq-%s-%d.txt" % (name, load)))
            if st is None:
                continue
            for s in SERIES:
                merge(pooled[cfg][s], st["hist"].get(s, {}))
            if cfg == "model":
                merge_paths(body_paths, st["paths"])
            for h in RQ_HISTS:
                merge(rq_pool[cfg][h], rq[h])
            c = counters(st["kv"])
            ph = {"load_pct": load, "config": cfg, "mode": name, "counters": c,
                  "cost_tsc": {s: hist_summary(st["hist"].get(s, {})) for s in SERIES},
                  "rq_maxdiff": int_hist_summary(rq["maxdiff"]),
                  "rq_total": int_hist_summary(rq["total"]),
                  "rq_stranded": int_hist_summary(rq["stranded"]),
                  "schedstat": schedstat_delta(
                      os.path.join(g, "schedstat-%s-%d-0.txt" % (name, load)),
                      os.path.join(g, "schedstat-%s-%d-1.txt" % (name, load)))}
            if cfg == "model":
                merge(totals, c)
                merge(reasons, by_prefix(st["kv"], "reason."))
                merge(disagree, by_prefix(st["kv"], "disagree."))
                merge(fallback, by_prefix(st["kv"], "fallback."))
                ph["agreement"] = ratio(c["agreements"], c["decisions"])
            phases.append(ph)

    def add_model_stats(st):
        c = counters(st["kv"])
        for k in COUNTERS:
            totals[k] = totals.get(k, 0) + c[k]
        merge(reasons, by_prefix(st["kv"], "reason."))
        merge(disagree, by_prefix(st["kv"], "disagree."))
        merge(fallback, by_prefix(st["kv"], "fallback."))

    bench_stats = read_stats(os.path.join(g, "stats-bench.txt"))
    if bench_stats:     # runs before per-run files: model-mode runs only
        add_model_stats(bench_stats)
    benchmarks = summarize_benchmarks(g, mode, add_model_stats)

    checks = {}
    cpath = os.path.join(g, "checks.txt")
    if os.path.exists(cpath):
        for line in open(cpath):
            p = line.split()
            if len(p) == 3:
                checks[p[1]] = p[2]
    extras = {}
    for extra in ("verify", "inverted-substitute", "inverted-replace", "planted-fault",
                  "switch", "wrong-lb-env", "final"):
        st = read_stats(os.path.join(g, "stats-%s.txt" % extra))
        if st:
            extras[extra] = counters(st["kv"])
            extras[extra]["fallbacks_by_kind"] = by_prefix(st["kv"], "fallback.")

    def med(h):
        return hist_percentile(h, 0.5) if h else None

    nat, mod = pooled["native"], pooled["model"]
    # the kernel's body is timed wherever the module calls it (shadow and
    # replace phases of the run, and the verification phase)
    body = {}
    merge(body, mod["cmt_native_tsc"])
    vst = read_stats(os.path.join(g, "stats-verify.txt"))
    if vst:
        merge(body, vst["hist"].get("cmt_native_tsc", {}))
        merge_paths(body_paths, vst["paths"])
    decide = mod["cmt_substitute_tsc"] if mode == "substitute" else mod["cmt_shadow_tsc"]
    cost = {
        "unit": "instructions" if a.timing == "icount" else "tsc_ticks",
        "can_migrate_task": {
            "native": hist_summary(body), "model": hist_summary(decide),
            "native_by_path": path_summary(body_paths),
            "ratio": ratio(med(decide), med(body)),
            "what": "native: the kernel's can_migrate_task() body, called and timed by "
                    "the module; model: substitute: handler entry to the model's decision "
                    "(input snapshot, hard checks, features, MLP, side effects); shadow/"
                    "replace: the whole handler, the kernel's body included"},
        "model_alone": hist_summary(mod["model_tsc"]),
        "snapshot": hist_summary(mod["snapshot_tsc"]),
        "load_balance": None,
    }
    # load_balance: BPF fentry/fexit, medians per phase (ns; instructions under icount)
    lb = {"nomod": [], "native": [], "model": []}
    for load in loads:
        for cfg, name in (("nomod", "nomod"), ("native", "off"), ("model", mode)):
            kv = read_kv(os.path.join(g, "lb-%s-%d.txt" % (name, load)))
            if kv:
                lb[cfg].append({"load_pct": load, "count": kv["count"], "median": kv.get("p50"),
                                "p10": kv.get("p10"), "p90": kv.get("p90"), "mean": kv.get("mean")})

    def lb_med(cfg):
        xs = [x["median"] for x in lb[cfg] if x["median"] is not None]
        return statistics.median(xs) if xs else None
    cost["load_balance"] = {
        "no_module": lb_med("nomod"), "native": lb_med("native"), "model": lb_med("model"),
        "ratio_model_to_no_module": ratio(lb_med("model"), lb_med("nomod")),
        "ratio_model_to_off": ratio(lb_med("model"), lb_med("native")),
        "phases": lb,
        "what": "median ns per load_balance() call per phase (BPF fentry/fexit; under icount "
                "ns are instructions), median over phases; no_module: the module not loaded; "
                "native: loaded in mode off (kprobe dispatch only)"}
    instructions = None
    if a.timing == "icount":
        instructions = {"can_migrate_task": {"native": med(body), "model": med(decide)},
                        "load_balance": {"native": lb_med("nomod"), "model": lb_med("model"),
                                         "module_off": lb_med("native")},
                        "model_alone": med(mod["model_tsc"]),
                        "snapshot": med(mod["snapshot_tsc"])}

    soak = None
    if a.soak:
        def read_int(name):
            try:
                return int(open(os.path.join(g, name)).read().split()[0])
            except (OSError, ValueError, IndexError):
                return None
        nm = os.path.join(g, "soak-nmissed.txt")
        soak = {"cycles": read_int("soak-cycles"), "requested_cycles": a.soak,
                "mode_switches": read_int("soak-switches"),
                "crashes": a.crashed_boots, "oopses": read_int("oopses.txt"),
                "warnings": read_int("warnings.txt"),
                "nmissed_cycles": sum(1 for _ in open(nm)) if os.path.exists(nm) else 0}

    dec = totals.get("decisions", 0)
    summary = {
        "schema": "kmlb-deploy-summary",
        "schema_version": SCHEMA_VERSION,
        "mode": mode,
        "kernel": a.kernel or env.get("uname_r", ""),
        "agreement": ratio(totals.get("agreements", 0), dec),
        "decisions": dec,
        "heuristic_agreement": ratio(totals.get("heuristic_agreements", 0),
                                     totals.get("heuristic", 0)),
        "heuristic_decisions": totals.get("heuristic", 0),
        "active_balance_decisions": totals.get("active", 0),
        "hard_refusals": totals.get("hard", 0),
        "calls": totals.get("calls", 0),
        "overrides": totals.get("overrides", 0),
        "overrides_to_migrate": totals.get("overrides_to_migrate", 0),
        "substituted": totals.get("substituted", 0),
        "hard_mismatches": (extras.get("verify") or {}).get("hard_mismatches"),
        "side_effect_mismatches": (extras.get("verify") or {}).get("side_mismatches"),
        "verified_calls": (extras.get("verify") or {}).get("side_checked"),
        "side_effect_mismatch_records": read_csv_records(
            os.path.join(a.dir, "side-mismatches-verify.csv")),
        "verify_agreement": ratio((extras.get("verify") or {}).get("agreements", 0),
                                  (extras.get("verify") or {}).get("decisions", 0)),
        "nmissed": totals.get("cmt_nmissed", 0),
        "crashed_boots": a.crashed_boots,
        "stalled_boots": a.stalled_boots,
        "fallbacks": totals.get("fallbacks", 0),
        "teacher_mismatch": totals.get("teacher_mismatch", 0),
        "fallbacks_by_kind": fallback,
        "calls_by_reason": reasons,
        "disagreements_by_reason": disagree,
        "cost": cost,
        "instructions": instructions,
        "soak": soak,
        "safety_counters": extras,
        "rq_maxdiff": {cfg: int_hist_summary(rq_pool[cfg]["maxdiff"]) for cfg in rq_pool},
        "rq_total": {cfg: int_hist_summary(rq_pool[cfg]["total"]) for cfg in rq_pool},
        "rq_stranded": {cfg: int_hist_summary(rq_pool[cfg]["stranded"]) for cfg in rq_pool},
        "benchmarks": benchmarks,
        "phases": phases,
        "checks": checks,
        "checks_ok": bool(checks) and all(v in ("ok", 0) for v in checks.values()),
        "run": {"kernel": a.kernel or env.get("uname_r", ""), "guest": env,
                "seconds_per_phase": a.seconds, "loads_pct": loads,
                "model_header": a.header_kind, "qemu_wall_seconds": a.wall,
                "build_seconds": a.build_seconds, "boot_attempts": a.attempts,
                "timing": a.timing,
                "note": ("icount: costs are executed instructions" if a.timing == "icount" else
                         "TCG timings: compare native and model within this run, as ratios")},
        "chen2020": {"can_migrate_task_ratio": 1.36, "load_balance_ratio": 1.13,
                     "benchmarks": "within about 5 % of native (PARSEC)",
                     "source": "Chen et al., APSys 2020, Linux 4.15, 56 CPUs, QEMU/KVM"},
    }
    tmp = os.path.join(a.dir, "summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, os.path.join(a.dir, "summary.json"))


if __name__ == "__main__":
    main()
