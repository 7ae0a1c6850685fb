#!/usr/bin/env python3
"""bench/bench.py: the figures W1-W8 of ../shared/BENCHMARKS.md, each beside its
baseline, in one run on one private cluster; and the figures of the recompute
strategy (issue 10) and of a fold of many dirty groups (issue 14): W1s/W1p and
W4*-s/W4*-p (W1 and W4 for definitions of recomputed values), W9 (the fold's
recompute vs the rows per group), W10 (a fold of 13,000 dirty deltas, time
column NULLable vs NOT NULL); W11, how long writers wait while alter()
switches an aggregate of the default table between batch and hybrid.

Started by bench/run, which builds and installs hybridagg, starts the cluster
and exports PGHOST, PGPORT, PGUSER, PGDATABASE, PG_BIN and BENCH_SERVER_LOG.
Python 3 standard library only: every statement goes through psql (timed by
psql's own \\timing, so connection set-up is never counted) or pgbench.

A figure is the median, min and max of its repetitions, its baseline's median
measured in the same run (alternating A B A B where it matters), and the ratio
of the two medians.  A figure that cannot be measured is printed as "not
available" with the reason; nothing is invented.

Exit status: 1 if any figure failed with an error, or W5, W9 or W10 found a
group where the view differed from the raw query, 0 otherwise.  Timings never
fail a run.
"""

import argparse
import csv
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
PGBENCH = os.path.join(PG_BIN, "pgbench")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The aggregate of BENCHMARKS.md: per 1-minute bucket and device.
BUCKET = "date_bin('1 minute', ts, '2000-01-01 00:00+00')"
AGG_COLS = "count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi"

# Definitions whose other aggregates hybridagg keeps another way than the
# typed states (issue 10): s and p as recomputed values, stored per group and
# recomputed from the base table whenever a write touches the group (in s,
# hll and tdigest make the group dirty; stddev alone would be combined); c as
# combined states, the aggregates' own transition states, which an INSERT
# adds to.  count(*) keeps a partial state in each, so that the W4 queries can
# count groups and events as they do on the typed aggregate.
RECOMPUTED = {
    "s": ("stddev + hll + tdigest (recomputed)",
          "count(*) AS n, stddev(value) AS sd, hll_cardinality(hll_add_agg(hll_hash_integer(device_id))) "
          "AS devices, tdigest_percentile(value, 100, 0.9) AS p90"),
    "p": ("percentile_cont (recomputed)",
          "count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median"),
    "c": ("stddev + var_pop (combined states)",
          "count(*) AS n, stddev(value) AS sd, var_pop(value) AS vp"),
}
# how W4 (b) rolls each definition's values up to hours
ROLLUP = {"s": "avg(sd) AS sd, max(devices) AS devices, max(p90) AS p90",
          "p": "avg(median) AS median, max(median) AS top",
          "c": "avg(sd) AS sd, avg(vp) AS vp"}


# W12's batch mode runs materialize as the README's pg_cron example does
BATCH_SCHEDULE_S = 600


def definition(table, cols=AGG_COLS, bucket=BUCKET):
    return (f"SELECT {bucket} AS bucket, device_id, {cols} "
            f"FROM {table} GROUP BY 1, 2")


class BenchError(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------
# psql
# ----------------------------------------------------------------------

def sql(text, timeout=7200):
    """Run a script in one psql session; return its unaligned, tuples-only output."""
    try:
        p = subprocess.run(PSQL + ["-f", "-"], input=text, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"psql timed out after {timeout} s: {text.strip()[:200]}")
    if p.returncode != 0:
        raise BenchError(f"psql failed: {p.stderr.strip()[-1500:]}\n  in: {text.strip()[:300]}")
    return p.stdout


def val(query):
    out = sql(query).strip()
    return out.splitlines()[-1] if out else ""


def timed(stmts, prelude="", timeout=7200):
    """Run statements in one psql session, each on its own (autocommit), and
    return the time of each in ms as psql measures it (round trip, commit
    included; printing of results excluded: they go to /dev/null)."""
    parts = [prelude, "\\o /dev/null"]
    for s in stmts:
        parts += ["\\timing on", s.strip().rstrip(";") + ";", "\\timing off"]
    out = sql("\n".join(parts) + "\n", timeout=timeout)
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    if len(times) != len(stmts):
        raise BenchError(f"expected {len(stmts)} timings, got {len(times)}")
    return times


def agg_id(view):
    return int(val(f"SELECT id FROM hybridagg_internal.aggregate WHERE view = '{view}'::regclass"))


def pending(aid):
    """Pending delta rows of aggregate aid: the number hybridagg.aggregates
    shows as pending_deltas, counted on the delta table alone (the status view
    also counts history and recent, which costs more than we want to spend
    while sampling)."""
    return int(val(f"SELECT count(*) FROM hybridagg_internal.delta_{aid}"))


def wait_drained(aid, timeout=900, poll=0.2):
    """Seconds until the worker has folded every pending delta of aid."""
    start = time.monotonic()
    while True:
        n = pending(aid)
        if n == 0:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise BenchError(f"aggregate {aid} still has {n} pending deltas after {timeout} s")
        time.sleep(poll)


def worker_pid():
    out = val("SELECT pid FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' "
              "AND datname = current_database()")
    return int(out) if out else None


def hold_worker():
    """Keep the worker from folding: a long fold interval, no early wake-up."""
    sql("ALTER SYSTEM SET hybridagg.fold_interval = '1h';\n"
        "ALTER SYSTEM SET hybridagg.wake_threshold = 2147483647;\n"
        "SELECT pg_reload_conf();\n")
    time.sleep(1.5)   # the worker rereads its settings when the SIGHUP wakes it


def release_worker():
    sql("ALTER SYSTEM RESET hybridagg.fold_interval;\n"
        "ALTER SYSTEM RESET hybridagg.wake_threshold;\n"
        "SELECT pg_reload_conf();\n")


def feed_select(t0, first, n):
    """n rows of the live feed from row number first: 1,000 rows a minute over
    100 devices (10 rows per device-minute), as time-ordered as a live feed."""
    return (f"SELECT '{t0}'::timestamptz + i * interval '60 ms', (i % 100)::int, "
            f"((i::bigint * 7919) % 10007)::float8 / 100 "
            f"FROM generate_series({first}::bigint, {first + n - 1}::bigint) i")


def create_streaming(table, view, with_data=True, cols=AGG_COLS, bucket=BUCKET):
    sql(f"SELECT hybridagg.create('{view}', $q${definition(table, cols, bucket)}$q$, "
        f"mode => 'hybrid', seal_after => '1 hour', with_data => {str(with_data).lower()});")
    return agg_id(view)


def create_table(name, index=True, ts_null=False):
    sql(f"DROP TABLE IF EXISTS {name} CASCADE;\n"
        f"CREATE TABLE {name} (ts timestamptz{'' if ts_null else ' NOT NULL'}, device_id int NOT NULL, value float8);\n"
        + (f"CREATE INDEX ON {name} (ts);\n" if index else ""))


# ----------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------

class Figure:
    """One row of the results table."""

    def __init__(self, fid, name, unit, values=None, baseline=None, baseline_name="",
                 ratio="x", target=None, note="", decimals=None):
        self.fid = fid
        self.name = name
        self.unit = unit
        self.values = list(values or [])
        self.baseline = list(baseline or [])
        self.baseline_name = baseline_name
        self.ratio_kind = ratio      # "x": value / baseline; "speedup": baseline / value
        self.target = target         # (applies to "ratio" | "value", op, number, text)
        self.note = note
        self.na = None               # reason it is not available
        self.error = None

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    @property
    def base_median(self):
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self):
        m, b = self.median, self.base_median
        if m is None or b is None or self.ratio_kind is None:
            return None
        if self.ratio_kind == "x":
            return m / b if b else None
        return b / m if m else None

    @property
    def met(self):
        if self.target is None or self.na or self.error or not self.values:
            return None
        what, op, bound, _ = self.target
        x = self.ratio if what == "ratio" else self.median
        if what == "value" and op == "==":
            x = max(self.values)         # exact: every repetition must meet it
        if x is None:
            return None
        return {"<=": x <= bound, "<": x < bound, ">=": x >= bound, "==": x == bound,
                "within": 1 - bound <= x <= 1 + bound}[op]


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("tps", "rows/s", "groups", "rows"):
        return f"{v:,.0f}"
    if unit == "MB":
        return f"{v:,.1f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def fmt_ratio(r, kind):
    if r is None:
        return "-"
    def num(x):
        return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"
    if kind == "speedup":
        return f"{num(r)}x faster" if r >= 1 else f"{num(1 / r)}x slower"
    return num(r) + "x"


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.reps = 1 if args.quick and args.reps is None else (args.reps or 3)
        scale = args.scale if args.scale is not None else (0.02 if args.quick else 1.0)
        self.scale = scale
        self.rows = max(10000, int(round(10_000_000 * scale)))
        # the span shrinks and grows with the rows, so that the density of the
        # workload stays at ~10 rows per device-minute, unless --days says otherwise
        self.span_s = int(args.days * 86400) if args.days else int(round(7 * 86400 * self.rows / 10_000_000))
        self.figures = []
        self.failed = False
        self.only = set(args.only.upper().split(",")) if args.only else None
        self.info = {}
        self.end = None          # end of the generated events, a timestamptz literal
        self.events_agg = None   # id of events_1m
        self.modes_summary = None  # W12: mode -> (write ratio, upkeep s/1M rows, fresh after s)

    def ordered(self):
        """The figures in the order of BENCHMARKS.md (they run in another order)."""
        return sorted(self.figures, key=lambda f: int(re.match(r"W(\d+)", f.fid).group(1)))

    def wanted(self, fid):
        # --only W4 also runs W4r, W4 on views of recomputed values (--only W4R alone)
        return self.only is None or fid in self.only or (fid == "W4R" and "W4" in self.only)

    def add(self, fig):
        self.figures.append(fig)
        return fig

    def na(self, fid, name, unit, reason, target=None):
        f = self.add(Figure(fid, name, unit, target=target))
        f.na = reason
        return f

    # ------------------------------------------------------------------
    def machine(self):
        cpu = "unknown CPU"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem_gb = None
        try:
            for line in open("/proc/meminfo"):
                if line.startswith("MemTotal"):
                    mem_gb = int(line.split()[1]) / 1024 / 1024
        except OSError:
            pass
        ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        commit = "unknown"
        try:
            commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip() or "unknown"
            dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "sql",
                                    "hybridagg--0.2.0.sql", "hybridagg--0.1.0--0.2.0.sql", "Makefile"],
                                   capture_output=True, text=True).stdout.strip()
            if dirty:
                commit += " + uncommitted changes"
        except OSError:
            pass
        pg = val("SHOW server_version")
        self.info = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{ncpu} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.system()} {platform.release()}",
            "nproc": str(ncpu), "cpu": cpu, "memory": f"{mem_gb:.1f} GB",
            "postgres": f"PostgreSQL {pg}",
            "hybridagg": commit,
            "settings": "shared_buffers 1GB, max_wal_size 4GB, fsync on, synchronous_commit on, jit default (on)",
            "workload": (f"{self.rows:,} rows, 100 devices, {self.span_s / 86400:.3g} days "
                         f"(~{self.rows / (self.span_s / 60) / 100:.1f} rows per device-minute), "
                         f"{self.reps} repetition(s){', quick mode' if self.quick else ''}"),
            "command": "bench/run " + " ".join(a for i, a in enumerate(sys.argv[1:], 1)
                                               if a != "--out" and sys.argv[i - 1] != "--out"),
        }
        for k, v in self.info.items():
            log(f"{k}: {v}")

    # ------------------------------------------------------------------
    def setup(self):
        sql("SET client_min_messages = warning;\nCREATE EXTENSION IF NOT EXISTS hybridagg;\n"
            "CREATE EXTENSION IF NOT EXISTS hll;\nCREATE EXTENSION IF NOT EXISTS tdigest;\n")
        need_events = any(self.wanted(f) for f in ("W3", "W4", "W4R", "W5", "W7", "W11"))
        if not need_events:
            return
        log(f"generating events: {self.rows:,} rows over {self.span_s / 86400:.3g} days")
        self.end = val("SELECT date_trunc('minute', now())")
        start = val(f"SELECT '{self.end}'::timestamptz - interval '{self.span_s} seconds'")
        span_us = self.span_s * 1_000_000
        t = time.monotonic()
        create_table("events", index=False)
        sql(f"INSERT INTO events SELECT '{start}'::timestamptz + (i * {span_us}::bigint / {self.rows}) "
            f"* interval '1 microsecond', (i % 100)::int, ((i::bigint * 7919) % 10007)::float8 / 100 "
            f"FROM generate_series(0::bigint, {self.rows - 1}::bigint) i;\n"
            "CREATE INDEX ON events (ts);\n")
        # the same rows in a table without any aggregate, for W5's DML baseline
        sql("DROP TABLE IF EXISTS events_bare;\n"
            "CREATE TABLE events_bare AS SELECT * FROM events;\n"
            "CREATE INDEX ON events_bare (ts);\n"
            "VACUUM ANALYZE events; VACUUM ANALYZE events_bare;\n")
        log(f"  loaded in {time.monotonic() - t:.0f} s; creating events_1m (hybrid, with_data)")
        ms = timed([f"SELECT hybridagg.create('events_1m', $q${definition('events')}$q$, "
                    "mode => 'hybrid', seal_after => '1 hour', with_data => true)"])[0]
        self.events_agg = agg_id("events_1m")
        self.info["backfill"] = f"hybridagg.create(..., with_data => true) on {self.rows:,} rows: {ms / 1000:.1f} s"
        log("  " + self.info["backfill"])
        wait_drained(self.events_agg)

    # ------------------------------------------------------------------
    def w1(self):
        """W1: 100 INSERT ... SELECT of 10,000 rows, hybrid aggregates vs bare table."""
        batches = 20 if self.quick else 100
        # the typed aggregate of BENCHMARKS.md (W1), and beside it in the same
        # rounds two definitions of recomputed values (W1s, W1p), each on its own
        # table; each aggregate also once with the worker held off (capture alone)
        tables = {"w1_agg": AGG_COLS, "w1_bare": None}
        tables.update({f"w1_{k}": cols for k, (_, cols) in RECOMPUTED.items()})
        aids = {}
        for table, cols in tables.items():
            create_table(table)
            if cols is not None:
                aids[table] = create_streaming(table, f"{table}_1m", cols=cols)
        t0 = val("SELECT date_trunc('minute', now())")
        stmts = {table: [f"INSERT INTO {table} (ts, device_id, value) {feed_select(t0, k * 10000, 10000)}"
                         for k in range(batches)] for table in tables}
        sides = [(table, False) for table in tables] + [(table, True) for table in aids]
        res = {side: [] for side in sides}
        lags = {table: [] for table in aids}
        for rep in range(self.reps):
            for table, held in sides:                   # A B C D A' C' D' A B ...
                sql(f"TRUNCATE {table};")
                if table in aids:
                    wait_drained(aids[table])
                sql("CHECKPOINT;")
                if held:
                    hold_worker()
                try:
                    total = sum(timed(stmts[table])) / 1000
                finally:
                    if held:
                        release_worker()
                res[(table, held)].append(total)
                if table in aids:
                    lag = wait_drained(aids[table])     # not timed: the fold is W6's business
                    if not held:
                        lags[table].append(lag)
                log(f"  W1 rep {rep + 1} {table}{' (worker held off)' if held else ''}: {total:.2f} s")
        bare = res[("w1_bare", False)]
        self.add(Figure("W1", f"bulk ingest {batches}x10k rows, capture on", "s", res[("w1_agg", False)], bare,
                        "bare table", target=("ratio", "<=", 1.10, "<= 1.10x"),
                        note=f"both tables with a ts index; worker folded the last batch "
                             f"{statistics.median(lags['w1_agg']):.2f} s after the last INSERT (median)"))
        for k, (label, cols) in RECOMPUTED.items():
            table = f"w1_{k}"
            upkeep = ("the capture runs the aggregates' transition functions over its rows, and the worker's "
                      "fold combines the states" if k == "c" else
                      "every batch makes its 1,000 groups dirty, and the worker's fold recomputes them from "
                      "the base table")
            note = (f"the same INSERTs into a table with a hybrid aggregate of {cols}, in the same rounds as W1; "
                    f"{upkeep} meanwhile (on the same 2 cores): it folded the last batch "
                    f"{statistics.median(lags[table]):.2f} s after the last INSERT (median)")
            self.add(Figure(f"W1{k}", f"  same, {label}", "s", res[(table, False)], bare,
                            "bare table", note=note))
            self.add(Figure(f"W1{k}'", f"  same, {label}, vs the typed aggregate", "s", res[(table, False)],
                            res[("w1_agg", False)], "typed aggregate (W1)", note=note))
            self.add(Figure(f"W1{k}c", f"  same, {label}, capture alone", "s", res[(table, True)],
                            res[("w1_agg", True)], "typed, capture alone",
                            note="both with the worker held off during the INSERTs (hybridagg.fold_interval 1h), "
                                 "so that only the writers' capture is timed; the deltas are folded afterwards"))

    # ------------------------------------------------------------------
    def w1x(self):
        """W1x: W1's bulk ingest into a table with 1, 3 and 10 aggregates (issue 12)."""
        batches = 20 if self.quick else 100
        # ten definitions a dashboard keeps on one feed: per minute, hour and
        # day, by device, over all devices, and by a device group
        buckets = {"m": "date_bin('1 minute', ts, '2000-01-01 00:00+00')",
                   "h": "date_bin('1 hour', ts, '2000-01-01 00:00+00')",
                   "d": "date_bin('1 day', ts, '2000-01-01 00:00+00')"}
        defs = [("m", "device_id"), ("h", "device_id"), ("d", "device_id"), ("m", None), ("h", None),
                ("d", None), ("m", "device_id % 10"), ("h", "device_id % 10"), ("d", "device_id % 10"),
                ("h", "device_id / 25")]
        counts = [1, 3, 10]
        tables = {f"w1x_{n}": n for n in counts}
        tables["w1x_bare"] = 0
        aids = {}
        for table, n in tables.items():
            create_table(table)
            aids[table] = []
            for i, (b, key) in enumerate(defs[:n]):
                keys = f", {key} AS k" if key else ""
                q = (f"SELECT {buckets[b]} AS bucket{keys}, {AGG_COLS} FROM {table} "
                     f"GROUP BY {'1, 2' if key else '1'}")
                sql(f"SELECT hybridagg.create('{table}_{i}', $q${q}$q$, mode => 'hybrid', "
                    "seal_after => '1 hour');")
                aids[table].append(agg_id(f"{table}_{i}"))
        t0 = val("SELECT date_trunc('minute', now())")
        res = {table: [] for table in tables}
        for rep in range(self.reps):
            for table in tables:                        # A B C D A B C D ...
                sql(f"TRUNCATE {table};")
                for aid in aids[table]:
                    wait_drained(aid)
                sql("CHECKPOINT;")
                total = sum(timed([f"INSERT INTO {table} (ts, device_id, value) "
                                   f"{feed_select(t0, k * 10000, 10000)}" for k in range(batches)])) / 1000
                res[table].append(total)
                for aid in aids[table]:
                    wait_drained(aid)               # not timed
                log(f"  W1x rep {rep + 1} {table}: {total:.2f} s")
        bare = res["w1x_bare"]
        target = {1: None, 3: None, 10: ("ratio", "<=", 1.5, "<= 1.5x")}
        for n in counts:
            self.add(Figure(f"W1x{n}", f"  bulk ingest {batches}x10k rows, {n} aggregate{'s' if n > 1 else ''}",
                            "s", res[f"w1x_{n}"], bare, "bare table", target=target[n],
                            note="hybrid aggregates per minute, hour and day, by device, over all devices and "
                                 "by device group, the first n of ten; the worker folds meanwhile"))

    # ------------------------------------------------------------------
    def w2(self):
        """W2: single-row INSERT tps, pgbench -c 2 -j 2, capture on vs bare."""
        secs = 3 if self.quick else self.args.w2_seconds
        create_table("w2_agg")
        create_table("w2_bare")
        aid = create_streaming("w2_agg", "w2_1m")
        tmp = os.path.join(self.args.out, "tmp")
        os.makedirs(tmp, exist_ok=True)
        cases = {
            "spread": ("\\set dev random(0, 99)\n"
                       "INSERT INTO {t} (ts, device_id, value) VALUES (now(), :dev, random() * 100);\n"),
            "same": "INSERT INTO {t} (ts, device_id, value) VALUES (now(), 7, random() * 100);\n",
        }
        for case, script in cases.items():
            tps = {"w2_agg": [], "w2_bare": []}
            for rep in range(self.reps):
                for side in ("w2_agg", "w2_bare"):         # A B A B ...
                    path = os.path.join(tmp, f"w2_{case}_{side}.sql")
                    with open(path, "w") as f:
                        f.write(script.format(t=side))
                    if side == "w2_agg":
                        wait_drained(aid)
                    sql("CHECKPOINT;")
                    p = subprocess.run([PGBENCH, "-n", "-c", "2", "-j", "2", "-T", str(secs), "-f", path],
                                       capture_output=True, text=True, timeout=secs * 10 + 120)
                    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", p.stdout)
                    if p.returncode != 0 or not m:
                        raise BenchError(f"pgbench failed: {p.stderr.strip()[-800:]}")
                    failed = re.search(r"number of failed transactions: ([0-9]+)", p.stdout)
                    if failed and int(failed.group(1)) > 0:
                        raise BenchError(f"pgbench: {failed.group(1)} failed transactions")
                    tps[side].append(float(m.group(1)))
                    log(f"  W2 {case} rep {rep + 1} {side}: {float(m.group(1)):.0f} tps")
            name = ("single-row INSERT, 2 clients, random devices" if case == "spread"
                    else "single-row INSERT, 2 clients, same device+bucket")
            self.add(Figure("W2a" if case == "spread" else "W2b", name, "tps", tps["w2_agg"],
                            tps["w2_bare"], "bare table", target=("ratio", ">=", 0.85, ">= 0.85x"),
                            note=f"pgbench -n -c 2 -j 2 -T {secs}, one INSERT per transaction, "
                                 f"synchronous_commit on"))

    # ------------------------------------------------------------------
    def w3(self):
        """W3: CALL hybridagg.materialize() of a batch aggregate vs CREATE TABLE AS."""
        mat, ctas, ctas_ix = [], [], []
        pre = "SET client_min_messages = warning;"
        for rep in range(self.reps):
            sql("SET client_min_messages = warning;\n"
                "SELECT hybridagg.drop(name) FROM hybridagg.aggregates WHERE name = 'w3_batch';\n"
                f"SELECT hybridagg.create('w3_batch', $q${definition('events')}$q$, mode => 'batch', "
                "seal_after => '1 hour', with_data => false);\nCHECKPOINT;\n")
            ms = timed(["CALL hybridagg.materialize('w3_batch')"], pre)[0]
            mat.append(ms / 1000)
            groups = val("SELECT history_rows FROM hybridagg.aggregates WHERE name = 'w3_batch'")
            sql("DROP TABLE IF EXISTS w3_ctas;\nCHECKPOINT;\n")
            t = timed([f"CREATE TABLE w3_ctas AS {definition('events')}",
                       "CREATE UNIQUE INDEX ON w3_ctas (bucket, device_id)"], pre)
            ctas.append(t[0] / 1000)
            ctas_ix.append((t[0] + t[1]) / 1000)
            log(f"  W3 rep {rep + 1}: materialize {ms / 1000:.2f} s ({groups} groups), "
                f"CTAS {t[0] / 1000:.2f} s, + index {t[1] / 1000:.2f} s")
        sql("SELECT hybridagg.drop('w3_batch'); DROP TABLE w3_ctas;")
        self.add(Figure("W3", f"batch materialize, {self.rows / 1e6:g}M rows", "s", mat, ctas,
                        "CREATE TABLE AS", target=("ratio", "<=", 1.2, "<= 1.2x"),
                        note="batch aggregate created with with_data => false, then "
                             "CALL hybridagg.materialize(name); CTAS of the defining query"))
        self.add(Figure("W3'", "  same, vs CTAS + unique index", "s", mat, ctas_ix,
                        "CTAS + index", note="informational: the CTAS baseline plus "
                        "CREATE UNIQUE INDEX (bucket, device_id), which hybridagg's history has"))

    # ------------------------------------------------------------------
    def settle(self):
        """The state W4 and W7 measure: nothing pending, everything vacuumed."""
        wait_drained(self.events_agg)
        sql("SET client_min_messages = warning;\nCALL hybridagg.materialize('events_1m');\n")
        wait_drained(self.events_agg)
        sql("VACUUM ANALYZE;")
        sql("DROP TABLE IF EXISTS w4_final;\n"
            "CREATE TABLE w4_final AS SELECT * FROM events_1m;\n"
            "CREATE UNIQUE INDEX ON w4_final (bucket, device_id);\n"
            "VACUUM ANALYZE w4_final;\n")

    def queries(self, rel):
        raw = f"({definition('events')}) r"
        src = raw if rel == "raw" else rel
        since = f"'{self.end}'::timestamptz - interval '1 day'"
        if rel == "raw":
            qa = (f"SELECT {BUCKET} AS bucket, device_id, {AGG_COLS} FROM events "
                  f"WHERE device_id = 42 AND ts >= {since} GROUP BY 1, 2 ORDER BY 1")
        else:
            qa = f"SELECT * FROM {rel} WHERE device_id = 42 AND bucket >= {since} ORDER BY bucket"
        qb = (f"SELECT date_trunc('hour', bucket) AS hour, sum(n) AS n, sum(total) / sum(n) AS mean, "
              f"min(lo) AS lo, max(hi) AS hi FROM {src} GROUP BY 1 ORDER BY 1")
        qc = f"SELECT count(*) AS groups, sum(n) AS events FROM {src}"
        return {"a": qa, "b": qb, "c": qc}

    def w4(self):
        """W4: view queries vs the final-rows table and vs the raw GROUP BY."""
        qs = {rel: self.queries(rel) for rel in ("events_1m", "w4_final", "raw")}
        check = sql("SELECT (SELECT count(*) FROM events_1m), (SELECT count(*) FROM w4_final);").strip()
        a, b = check.split("|")
        if a != b:
            raise BenchError(f"view has {a} groups, final-rows table {b}")
        # the first query of a new connection, A B A B: hybridagg's per-backend set-up shows here
        cold = {"events_1m": [], "w4_final": []}
        for rep in range(self.reps):
            for rel in cold:
                cold[rel].append(timed([qs[rel]["a"]])[0])
        # then in one connection: a round to warm caches and buffers (not counted), and the
        # repetitions, each query beside its baselines
        order = [(q, rel) for q in "abc" for rel in ("events_1m", "w4_final", "raw")]
        times = timed([qs[rel][q] for q, rel in order] * (self.reps + 1))[len(order):]
        res = {key: [] for key in order}
        for rep in range(self.reps):
            chunk = times[rep * len(order):(rep + 1) * len(order)]
            for key, ms in zip(order, chunk):
                res[key].append(ms)
            log(f"  W4 rep {rep + 1}: " + ", ".join(f"{q}/{rel} {ms:.1f} ms" for (q, rel), ms in zip(order, chunk)))
        log(f"  W4 first query of a connection: view {cold['events_1m']}, final {cold['w4_final']}")
        labels = {"a": "(a) one device, last day, per minute",
                  "b": "(b) all devices, whole range, per hour",
                  "c": "(c) total count (groups and events)"}
        for q in "abc":
            self.add(Figure(f"W4{q}", f"view {labels[q]}", "ms", res[(q, "events_1m")],
                            res[(q, "w4_final")], "final-rows table",
                            target=("ratio", "<=", 1.5, "<= 1.5x")))
        self.add(Figure("W4a1", "  view (a) as the first query of a new connection", "ms", cold["events_1m"],
                        cold["w4_final"], "final-rows table",
                        note="each repetition in a fresh psql session; W4a-c above run in one warm session"))
        for q in "abc":
            tgt = None if q == "a" else ("ratio", ">=", 50, ">= 50x faster")
            self.add(Figure(f"W4{q}-raw", f"  view {q} vs the raw GROUP BY", "ms", res[(q, "events_1m")],
                            res[(q, "raw")], "raw GROUP BY", ratio="speedup", target=tgt,
                            note="raw = the same query over the defining query run on events"))

    # ------------------------------------------------------------------
    def queries_recomputed(self, k, rel):
        """W4's three queries on a view of recomputed values (k in RECOMPUTED),
        on its final-rows table, or over its raw GROUP BY (rel = "raw")."""
        cols = RECOMPUTED[k][1]
        since = f"'{self.end}'::timestamptz - interval '1 day'"
        src = f"({definition('events', cols)}) r" if rel == "raw" else rel
        if rel == "raw":
            qa = (f"SELECT {BUCKET} AS bucket, device_id, {cols} FROM events "
                  f"WHERE device_id = 42 AND ts >= {since} GROUP BY 1, 2 ORDER BY 1")
        else:
            qa = f"SELECT * FROM {rel} WHERE device_id = 42 AND bucket >= {since} ORDER BY bucket"
        roll = ROLLUP[k]
        qb = f"SELECT date_trunc('hour', bucket) AS hour, sum(n) AS n, {roll} FROM {src} GROUP BY 1 ORDER BY 1"
        qc = f"SELECT count(*) AS groups, sum(n) AS events FROM {src}"
        return {"a": qa, "b": qb, "c": qc}

    def dirty_writes(self, case):
        """One INSERT of a row into each of the groups W4's dirty rounds touch:
        the newest minute of the 100 devices (100 groups), the newest 10 minutes
        (1,000), or 10 minutes spread over the whole range, as late rows (1,000)."""
        end = f"'{self.end}'::timestamptz"
        if case == "late":
            starts = ", ".join(str(int(self.span_s * (j + 0.5) / 10) // 60 * 60) for j in range(10))
            at = f"{end} - interval '{self.span_s} seconds' + b * interval '1 second'"
            buckets = f"unnest(ARRAY[{starts}]) b"
        else:
            at = f"{end} - (b + 1) * interval '1 minute'"
            buckets = f"generate_series(0, {0 if case == '100' else 9}) b"
        return (f"INSERT INTO events (ts, device_id, value) SELECT {at} + interval '30 seconds', d, 50.5 "
                f"FROM {buckets}, generate_series(0, 99) d")

    def w4_recomputed(self):
        """W4r: W4 on views of recomputed values (stddev + hll + tdigest; percentile_cont) and of combined
        states (stddev + var_pop), folded and right after writes."""
        reps = self.reps
        views = {}
        backfill = []
        sql("SET client_min_messages = warning;\n"
            + "".join(f"SELECT hybridagg.drop(name) FROM hybridagg.aggregates WHERE name = 'events_1m_{k}';\n"
                      for k in RECOMPUTED))
        for k, (label, cols) in RECOMPUTED.items():
            v = f"events_1m_{k}"
            ms = timed([f"SELECT hybridagg.create('{v}', $q${definition('events', cols)}$q$, "
                        "mode => 'hybrid', seal_after => '1 hour', with_data => true)"])[0]
            views[k] = (v, agg_id(v))
            backfill.append(f"{v} ({label}) created with_data on {self.rows:,} rows in {ms / 1000:.1f} s")
            log("  " + backfill[-1])
        aids = [self.events_agg] + [aid for _, aid in views.values()]
        for aid in aids:
            wait_drained(aid)
        sql("VACUUM ANALYZE;")
        for k, (v, _) in views.items():
            sql(f"DROP TABLE IF EXISTS w4_final_{k};\n"
                f"CREATE TABLE w4_final_{k} AS SELECT * FROM {v};\n"
                f"CREATE UNIQUE INDEX ON w4_final_{k} (bucket, device_id);\n"
                f"VACUUM ANALYZE w4_final_{k};\n")
            a, b = sql(f"SELECT (SELECT count(*) FROM {v}), (SELECT count(*) FROM w4_final_{k});").strip().split("|")
            if a != b:
                raise BenchError(f"{v} has {a} groups, its final-rows table {b}")

        def query(key):
            q, k, rel = key
            if k == "t":
                return self.queries("events_1m")[q]
            return self.queries_recomputed(k, {"view": views[k][0], "final": f"w4_final_{k}", "raw": "raw"}[rel])[q]

        # folded: in one connection, a warm-up round of everything but the raw
        # queries (not counted), then the repetitions, each query beside its baselines;
        # the typed view in the same rounds, for the record
        order = [(q, k, rel) for q in "abc" for k in RECOMPUTED for rel in ("view", "final", "raw")]
        order += [(q, "t", "view") for q in "abc"]
        warm = [key for key in order if key[2] != "raw"]
        times = timed([query(key) for key in warm] + [query(key) for key in order] * reps)[len(warm):]
        res = {key: times[i::len(order)] for i, key in enumerate(order)}
        log("  W4r folded: " + ", ".join(f"{q}/{k}/{rel} {statistics.median(res[(q, k, rel)]):.1f} ms"
                                        for (q, k, rel) in order))

        # right after writes that make groups dirty, the worker held off: every
        # query on the view recomputes them from events in its own snapshot
        cases = {"100": "100 touched", "1k": "1,000 touched", "late": "1,000 late touched"}
        where = {"100": "the newest minute x 100 devices", "1k": "the newest 10 minutes x 100 devices",
                 "late": "10 minutes spread over the whole range x 100 devices, late rows"}
        dirty = {}
        piles = {}
        dorder = [(q, k, "view") for q in "abc" for k in list(RECOMPUTED) + ["t"]]
        for case in cases:
            for aid in aids:
                wait_drained(aid)
            hold_worker()
            try:
                sql(self.dirty_writes(case) + ";")
                piles[case] = {k: sql(f"SELECT count(*), count(*) FILTER (WHERE __dirty) FROM "
                                      f"hybridagg_internal.delta_{aid};").strip().replace("|", " deltas, ") + " dirty"
                               for k, aid in [("t", self.events_agg)] + [(k, a) for k, (_, a) in views.items()]}
                t = timed([query(key) for key in dorder] * (reps + 1))[len(dorder):]
            finally:
                release_worker()
            dirty[case] = {key: t[i::len(dorder)] for i, key in enumerate(dorder)}
            log(f"  W4r {case}: pending {piles[case]}; " + ", ".join(
                f"{q}/{k} {statistics.median(dirty[case][(q, k, 'view')]):.1f} ms" for (q, k, _) in dorder))
        for aid in aids:
            wait_drained(aid)

        for k, (label, cols) in RECOMPUTED.items():
            short = label.replace(" + ", "+")
            for q in "abc":
                self.add(Figure(f"W4{q}-{k}", f"  view ({q}), {short}, folded", "ms", res[(q, k, "view")],
                                res[(q, k, "final")], "final-rows table",
                                note=f"a hybrid aggregate of {cols}, folded; its own final-rows table; "
                                     f"the typed view (W4{q}) in the same rounds: "
                                     f"{statistics.median(res[(q, 't', 'view')]):.1f} ms"
                                     + ("; " + "; ".join(backfill) if q == "a" else "")))
            for q in "abc":
                self.add(Figure(f"W4{q}-{k}-raw", f"  view ({q}), {short}, vs raw", "ms",
                                res[(q, k, "view")], res[(q, k, "raw")], "raw GROUP BY", ratio="speedup",
                                note="raw = the same query over the defining query run on events"))
            for case, what in cases.items():
                for q in "abc":
                    typed = statistics.median(dirty[case][(q, "t", "view")])
                    self.add(Figure(f"W4{q}-{k}{case if case != 'late' else '1k-late'}",
                                    f"  view ({q}), {short}, {what}", "ms", dirty[case][(q, k, "view")],
                                    res[(q, k, "view")], "same view, folded",
                                    note=f"right after one INSERT of a row into each of {what.split()[0]} groups "
                                         f"({where[case]}) with the worker held off: `{self.dirty_writes(case)}`; "
                                         f"pending: {piles[case][k]}; the typed view (W4{q}) with the same "
                                         f"writes pending ({piles[case]['t']}): {typed:.1f} ms, folded "
                                         f"{statistics.median(res[(q, 't', 'view')]):.1f} ms"))
        sql("SET client_min_messages = warning;\n"
            + "".join(f"SELECT hybridagg.drop('{v}'); DROP TABLE w4_final_{k};\n" for k, (v, _) in views.items()))

    # ------------------------------------------------------------------
    def w7(self):
        """W7: storage of all of events_1m's tables and indexes vs the final-rows table."""
        aid = self.events_agg
        rows = sql(f"SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                   f"WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND c.relkind = 'r' "
                   f"AND c.relname ~ '^[a-z]+_{aid}($|_)' ORDER BY 1;").split()
        parts = {}
        for line in rows:
            name, size = line.split("|")
            kind = name.split("_")[0]
            parts[kind] = parts.get(kind, 0) + int(size)
        total = sum(parts.values()) / 2**20
        final = int(val("SELECT pg_total_relation_size('w4_final')")) / 2**20
        raw = int(val("SELECT pg_total_relation_size('events')")) / 2**20
        nparts = sum(1 for line in rows if line.startswith(f"history_{aid}_"))
        self.add(Figure("W7", "storage of the aggregate (tables + indexes)", "MB", [total], [final],
                        "final-rows table + index", target=("ratio", "<=", 1.3, "<= 1.3x"),
                        note="one measurement after VACUUM (sizes do not vary); "
                             + ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in sorted(parts.items()))
                             + f" ({nparts} history partitions); raw events table + ts index {raw:.0f} MB"))

    # ------------------------------------------------------------------
    def diff_query(self):
        """Groups that differ between events_1m and its defining query, in one
        statement (one snapshot): test_diff of test/sql/helpers.sql, joined on
        the key columns themselves (they are NOT NULL here), floats within 1e-9."""
        fl = " OR ".join(
            f"NOT (v.{c} IS NOT DISTINCT FROM r.{c} OR (abs(v.{c}) < 'Infinity' AND abs(r.{c}) < 'Infinity' "
            f"AND abs(v.{c} - r.{c}) <= 1e-9 * greatest(abs(v.{c}), abs(r.{c}))))"
            for c in ("total", "mean", "lo", "hi"))
        return (f"SELECT count(*) FROM events_1m v FULL JOIN ({definition('events')}) r "
                f"USING (bucket, device_id) WHERE v.n IS NULL OR r.n IS NULL OR v.n IS DISTINCT FROM r.n OR {fl}")

    def w5_dml(self, table, rep):
        end = f"'{self.end}'::timestamptz"
        span = self.span_s
        late = f"{end} - interval '20 days' + interval '{rep} hours'"
        x1 = f"{end} - interval '{int(span * 0.4) + rep * 780} seconds'"
        x2 = f"{end} - interval '{int(span * 0.6) + rep * 780} seconds'"
        x3 = f"{end} - interval '{int(span * 0.5) + rep * 780} seconds'"
        return [
            # late rows: 10 minutes of 100 devices, 20 days back
            f"INSERT INTO {table} (ts, device_id, value) SELECT {late} + i * interval '60 ms', (i % 100)::int, "
            f"(i % 1000)::float8 / 7 FROM generate_series(0, 9999) i",
            # an UPDATE of values (sums change, extremes must be recomputed)
            f"UPDATE {table} SET value = value + 1 WHERE ts >= {x1} AND ts < {x1} + interval '10 minutes'",
            # an UPDATE that moves rows to another bucket and another device
            f"UPDATE {table} SET ts = ts + interval '90 seconds', device_id = (device_id + 1) % 100 "
            f"WHERE ts >= {x2} AND ts < {x2} + interval '10 minutes' AND device_id < 10",
            # an UPDATE in the recent, not yet sealed part
            f"UPDATE {table} SET value = value * 2 WHERE ts >= {end} - interval '20 minutes' AND device_id = 7",
            # a DELETE of 10 minutes of every device
            f"DELETE FROM {table} WHERE ts >= {x3} AND ts < {x3} + interval '10 minutes'",
        ]

    def w5(self):
        """W5: late rows, UPDATEs, DELETEs, then an immediate query on the view."""
        aid = self.events_agg
        qb_view = self.queries("events_1m")["b"]
        qb_raw = self.queries("raw")["b"]
        diff = self.diff_query()
        stale, stale_after, nxt, raw, dml_a, dml_b, drains, piles = [], [], [], [], [], [], [], []
        use_helper = self.rows <= 2_000_000
        if use_helper:
            sql(open(os.path.join(ROOT, "test", "sql", "helpers.sql")).read())
        try:
            for rep in range(self.reps):
                wait_drained(aid)
                hold_worker()
                try:
                    dml_b.append(sum(timed(self.w5_dml("events_bare", rep))))
                    dml_a.append(sum(timed(self.w5_dml("events", rep))))
                    # the next query, at once: deltas pending, dirty groups not recomputed yet
                    nxt.append(timed([qb_view])[0])
                    pend = sql(f"SELECT count(*), count(*) FILTER (WHERE __dirty) "
                               f"FROM hybridagg_internal.delta_{aid};").strip()
                    piles.append(pend.replace("|", " deltas, ") + " dirty")
                    n = int(val(diff))
                    if use_helper:
                        h = int(val(f"SELECT test_diff('events_1m', $q${definition('events')}$q$, "
                                    "'{bucket,device_id}')"))
                        if h != n:
                            raise BenchError(f"test_diff found {h} stale groups, the harness's diff {n}")
                    stale.append(n)
                    raw.append(timed([qb_raw])[0])
                finally:
                    release_worker()
                drains.append(wait_drained(aid))
                stale_after.append(int(val(diff)))
                log(f"  W5 rep {rep + 1}: pending {piles[-1]}; stale groups {stale[-1]} at once, "
                    f"{stale_after[-1]} after the fold; next query {nxt[-1]:.0f} ms, raw {raw[-1]:.0f} ms; "
                    f"DML {dml_a[-1]:.0f} ms vs {dml_b[-1]:.0f} ms bare")
        finally:
            release_worker()
        self.add(Figure("W5", "stale groups right after late rows/UPDATE/DELETE", "groups", stale,
                        target=("value", "==", 0, "0"), ratio=None,
                        note=f"worker held off (fold_interval 1h), view compared with the raw query "
                             f"in one statement; pending at the query: {'; '.join(piles)}"))
        self.add(Figure("W5'", "  stale groups after the worker folded them", "groups", stale_after,
                        target=("value", "==", 0, "0"), ratio=None,
                        note=f"fold took {statistics.median(drains):.2f} s (median)"))
        self.add(Figure("W5q", "  next query (W4b on the view) with deltas pending", "ms", nxt, raw,
                        "raw GROUP BY", ratio="speedup",
                        note="first query after the DML, dirty groups recomputed from events"))
        self.add(Figure("W5dml", "  the DML itself (5 statements), capture on", "ms", dml_a, dml_b,
                        "bare table", note="10k late rows, 3 UPDATEs (~11k rows), DELETE of ~10k rows"))
        if any(s != 0 for s in stale + stale_after):
            self.failed = True
            log("W5: THE VIEW DIFFERS FROM THE RAW QUERY")

    # ------------------------------------------------------------------
    def w6(self):
        """W6: highest sustained ingest rate at which pending deltas stay bounded."""
        step_s = 4 if self.quick else self.args.w6_step_seconds
        rates = [25_000, 100_000] if self.quick else [25_000, 50_000, 100_000, 150_000, 200_000,
                                                      300_000, 400_000, 600_000]
        per_s = 2                      # INSERT ... SELECT batches per second
        create_table("w6")
        create_table("w6_bare")
        aid = create_streaming("w6", "w6_1m")
        best, bare_rates, drain_s, notes = [], [], [], []
        for rep in range(self.reps):
            # baseline: the bare table's ingest rate, batches back to back
            sql("TRUNCATE w6_bare; CHECKPOINT;")
            t0 = val("SELECT date_trunc('minute', now())")
            n, batch = 0, 50_000
            t = time.monotonic()
            while time.monotonic() - t < step_s:
                sql(f"INSERT INTO w6_bare (ts, device_id, value) {feed_select(t0, n, batch)};")
                n += batch
            bare_rates.append(n / (time.monotonic() - t))
            log(f"  W6 rep {rep + 1}: bare table takes {bare_rates[-1]:,.0f} rows/s back to back")

            sql("TRUNCATE w6;")
            wait_drained(aid)
            sql("CHECKPOINT;")
            n = 0
            ok_rate = 0.0
            steps = []
            for rate in rates:
                samples = []
                stop = threading.Event()

                def sampler():
                    while not stop.is_set():
                        try:
                            samples.append((time.monotonic(), pending(aid)))
                        except BenchError:
                            pass
                        stop.wait(0.5)

                th = threading.Thread(target=sampler, daemon=True)
                batch = rate // per_s
                start = time.monotonic()
                th.start()
                k, inserted = 0, 0
                try:
                    while time.monotonic() - start < step_s:
                        sql(f"INSERT INTO w6 (ts, device_id, value) {feed_select(t0, n, batch)};")
                        n += batch
                        inserted += batch
                        k += 1
                        delay = start + k / per_s - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                finally:
                    elapsed = time.monotonic() - start
                    stop.set()
                    th.join()
                if not samples:
                    raise BenchError("W6: no sample of the pending deltas could be read")
                achieved = inserted / elapsed
                tail = [p for (ts, p) in samples if ts >= start + 0.75 * elapsed] or [samples[-1][1]]
                bound = 2 * rate / 10 + 10_000       # 2 s of input deltas + the wake threshold
                bounded = max(tail) <= bound
                kept_pace = achieved >= 0.97 * rate
                steps.append(f"{rate // 1000}k: {achieved / 1000:.0f}k rows/s, pending max "
                             f"{max(p for _, p in samples):,} end {tail[-1]:,}"
                             f"{'' if bounded else ' (growing)'}{'' if kept_pace else ' (writer behind)'}")
                log(f"  W6 rep {rep + 1} step {steps[-1]}")
                if bounded and kept_pace:
                    ok_rate = rate          # the step's rate, which the writer kept to within 3%
                else:
                    break
            backlog = pending(aid)
            drain_s.append(wait_drained(aid, timeout=1800))
            log(f"  W6 rep {rep + 1}: sustained {ok_rate:,.0f} rows/s; backlog {backlog:,} deltas "
                f"drained in {drain_s[-1]:.1f} s")
            best.append(ok_rate)
            notes.append(f"rep {rep + 1}: " + "; ".join(steps) + f"; backlog {backlog:,} drained in {drain_s[-1]:.1f} s")
        capped = all(b >= rates[-1] for b in best)
        self.add(Figure("W6", "fold keeps up: sustained ingest" + (" (ladder top)" if capped else ""),
                        "rows/s", best, bare_rates, "bare table, back to back",
                        target=("value", ">=", 100_000, ">= 100,000 rows/s"),
                        note=f"{per_s} INSERT ... SELECT batches a second, {step_s} s per step, "
                             f"bounded = backlog in the last quarter of a step <= 2 s of input + 10,000; "
                             + " | ".join(notes)))
        self.add(Figure("W6d", "  backlog drain after the last step", "s", drain_s,
                        note="time from the end of ingest until pending_deltas = 0"))

    # ------------------------------------------------------------------
    def restart_worker(self, timeout=60):
        """A fresh worker (the launcher starts a new one at once), so that what
        a trial measures does not depend on what the worker did before."""
        old = worker_pid()
        if old is not None:
            sql(f"SELECT pg_terminate_backend({old});")
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            pid = worker_pid()
            if pid is not None and pid != old:
                time.sleep(1.0)            # let it finish starting up
                return pid
            time.sleep(0.2)
        raise BenchError(f"no new hybridagg worker {timeout} s after terminating {old}")

    def drain_trial(self, aid, t0, pile_rows, jit):
        """Pile up pile_rows rows of deltas with the worker held off, then let
        a fresh worker fold them; sample its memory meanwhile."""
        sql("TRUNCATE w8;")
        wait_drained(aid)
        sql(f"ALTER SYSTEM SET jit = {jit}; SELECT pg_reload_conf();" if jit == "off"
            else "ALTER SYSTEM RESET jit; SELECT pg_reload_conf();")
        pid = self.restart_worker()
        status_path = f"/proc/{pid}/status"

        def read_status():
            d = {}
            with open(status_path) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmHWM", "VmRSS", "RssAnon", "RssShmem", "RssFile"):
                        d[k] = int(v.split()[0]) / 1024
            return d

        hold_worker()
        stop = threading.Event()
        th = None
        try:
            for k in range(0, pile_rows, 100_000):
                sql(f"INSERT INTO w8 (ts, device_id, value) {feed_select(t0, k, min(100_000, pile_rows - k))};")
            deltas = pending(aid)
            reset_ok = True
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")                    # reset VmHWM to the current RSS
            except OSError as e:
                reset_ok = False
                log(f"  W8: cannot reset VmHWM ({e}); it is then the worker's lifetime peak")
            before = read_status()
            peak = dict(before)

            def sampler():
                while not stop.is_set():
                    try:
                        d = read_status()
                    except OSError:
                        return
                    for k, v in d.items():
                        peak[k] = max(peak.get(k, 0), v)
                    time.sleep(0.005)

            th = threading.Thread(target=sampler, daemon=True)
            th.start()
        finally:
            release_worker()
        try:
            drain = wait_drained(aid, timeout=1800, poll=0.1)
        finally:
            stop.set()
            if th:
                th.join()
            sql("ALTER SYSTEM RESET jit; SELECT pg_reload_conf();")
        try:
            peak["VmHWM"] = max(peak["VmHWM"], read_status()["VmHWM"])
        except OSError:
            pass
        if worker_pid() != pid:
            raise BenchError(f"the worker changed while draining (pid {pid} -> {worker_pid()})")
        return {"deltas": deltas, "drain": drain, "before": before, "peak": peak, "reset_ok": reset_ok}

    def w8(self):
        """W8: the worker's peak memory while it drains a 10x backlog."""
        pile_rows = 200_000 if self.quick else max(1_000_000, int(1_000_000 * self.scale))
        # what the long-running worker holds after the other figures, for the record
        pid = worker_pid()
        aged = None
        if pid is not None:
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("RssAnon"):
                        aged = int(line.split()[1]) / 1024
            except OSError:
                pass
        create_table("w8")
        aid = create_streaming("w8", "w8_1m")
        t0 = val("SELECT date_trunc('minute', now())")
        on, off = [], []
        for rep in range(self.reps):
            for jit, trials in (("default", on), ("off", off)):
                r = self.drain_trial(aid, t0, pile_rows, jit)
                trials.append(r)
                log(f"  W8 rep {rep + 1} jit {jit}: {r['deltas']:,} deltas in {r['drain']:.2f} s, RssAnon "
                    f"{r['before']['RssAnon']:.1f} -> peak {r['peak']['RssAnon']:.1f} MB, VmHWM "
                    f"{r['peak']['VmHWM']:.0f} MB (shared {r['peak']['RssShmem']:.0f} MB)")
        deltas = statistics.median(r["deltas"] for r in on)
        common = (f"{pile_rows:,} rows piled up with the worker held off (~{deltas:,.0f} delta rows, "
                  f"10x the wake threshold), then folded by a freshly started worker; /proc/<pid>/status "
                  f"sampled every 5 ms")
        self.add(Figure("W8", "worker private memory (RssAnon) draining 10x backlog", "MB",
                        [r["peak"]["RssAnon"] for r in on], [r["peak"]["RssAnon"] for r in off],
                        "same, worker jit off", target=("value", "<", 64, "< 64 MB"),
                        note=common + "; the target applies to private memory (RssAnon); RssAnon of the idle, "
                             f"fresh worker {statistics.median(r['before']['RssAnon'] for r in on):.1f} MB"
                             + (f"; the long-running worker held {aged:.1f} MB RssAnon after W1-W6" if aged else "")))
        self.add(Figure("W8'", "  worker VmHWM (RSS incl. shared buffers touched)", "MB",
                        [r["peak"]["VmHWM"] for r in on], [r["peak"]["VmHWM"] for r in off],
                        "same, worker jit off",
                        note="informational: RSS counts every shared_buffers page the worker touched "
                             f"(RssShmem up to {max(r['peak']['RssShmem'] for r in on):.0f} MB), which is not its "
                             "own memory" + ("" if all(r["reset_ok"] for r in on) else
                                             "; VmHWM could not be reset, lifetime peak")))
        self.add(Figure("W8d", "  backlog fold rate (base rows/s of drain)", "rows/s",
                        [pile_rows / r["drain"] for r in on], [pile_rows / r["drain"] for r in off],
                        "same, worker jit off",
                        note="W8's pile / time until pending_deltas = 0; drain "
                             + ", ".join(f"{r['drain']:.2f} s" for r in on) + " (jit default) vs "
                             + ", ".join(f"{r['drain']:.2f} s" for r in off) + " (jit off)"))

    # ------------------------------------------------------------------
    def diff_count(self, view, query, cols):
        """Groups that differ between a view and its defining query, in one
        statement, floats within 1e-9 relative (as W5; a NULL bucket matches a
        NULL bucket)."""
        fl = " OR ".join(
            f"NOT (v.{c} IS NOT DISTINCT FROM r.{c} OR (abs(v.{c}) < 'Infinity' AND abs(r.{c}) < 'Infinity' "
            f"AND abs(v.{c} - r.{c}) <= 1e-9 * greatest(abs(v.{c}), abs(r.{c}))))"
            for c in cols)
        return int(val(f"SELECT count(*) FROM (SELECT *, coalesce(bucket, 'epoch') AS __b FROM {view}) v "
                       f"FULL JOIN (SELECT *, coalesce(bucket, 'epoch') AS __b FROM ({query}) q) r "
                       f"ON v.__b = r.__b AND v.device_id = r.device_id "
                       f"WHERE v.n IS NULL OR r.n IS NULL OR v.n <> r.n OR {fl}"))

    def check_exact(self, fid, view, table, cols, bucket, names):
        n = self.diff_count(view, definition(table, cols, bucket), names)
        if n:
            self.failed = True
            log(f"{fid}: THE VIEW {view} DIFFERS FROM THE RAW QUERY IN {n} GROUPS")
            raise BenchError(f"{view} differs from its defining query in {n} groups")

    def fold_ms(self, view, jit):
        """hybridagg.fold() of a view in a fresh psql session, in its own
        transaction: the aggregate's lock is taken at its start and released at
        its commit.  jit = off is how the worker runs; "default" leaves
        PostgreSQL's default (on), as a session calling fold() has it."""
        return timed([f"SELECT hybridagg.fold('{view}')"], prelude="SET jit = off;" if jit == "off" else "")[0]

    def worker_folds(self, expected):
        """Release the held worker, let it fold what is pending, hold it again;
        return the duration of each aggregate's fold in ms as the worker itself
        measured it (hybridagg.aggregates.last_fold_seconds: from when it holds
        the aggregate's lock to the end of the fold's statements; warm, jit off).
        expected: {aggregate id: delta rows pending}, each folded in one fold."""
        def stats():
            out = sql("SELECT id, folds, folded_deltas, last_fold_seconds FROM hybridagg_internal.aggregate_stats "
                      f"WHERE id IN ({', '.join(str(a) for a in expected)});")
            return {int(r[0]): (int(r[1]), int(r[2]), float(r[3] or 0))
                    for r in (line.split("|") for line in out.split())}
        for aid, n in expected.items():
            if pending(aid) != n:
                raise BenchError(f"aggregate {aid}: {pending(aid)} deltas pending, expected {n}")
        before = stats()
        release_worker()
        try:
            for aid in expected:
                wait_drained(aid, poll=0.05)
        finally:
            hold_worker()
        after = stats()
        res = {}
        for aid, n in expected.items():
            b, a = before.get(aid, (0, 0, 0.0)), after[aid]
            if a[0] - b[0] != 1 or a[1] - b[1] != n:
                raise BenchError(f"aggregate {aid}: the worker folded {a[1] - b[1]} deltas in {a[0] - b[0]} "
                                 f"folds, expected {n} in one")
            res[aid] = a[2] * 1000
        return res

    def w9(self):
        """W9: the fold's recompute of touched groups vs the rows per group (K groups of R rows)."""
        total = 100_000 if self.quick else 1_000_000
        configs = [("a", 10, 1), ("b", 100, 1), ("c", 1_000, 60), ("d", 10_000, 60)]   # R, minutes of a bucket
        configs = [c for c in configs if total // (100 * c[1]) >= 1]
        pct = RECOMPUTED["p"][1]
        t_base = val("SELECT date_trunc('day', now()) - interval '60 days'")
        hold_worker()
        try:
            for letter, R, minutes in configs:
                table = f"w9_{letter}"
                width = "1 minute" if minutes == 1 else "1 hour"
                bucket = f"date_bin('{width}', ts, '2000-01-01 00:00+00')"
                nb = total // (100 * R)                  # buckets of 100 devices x R rows
                kb = min(10, nb)                         # buckets touched: K = 100 kb groups
                K = 100 * kb
                stride = nb // kb
                per = 100 * R
                w_us = minutes * 60_000_000
                create_table(table, index=False)
                sql(f"INSERT INTO {table} SELECT '{t_base}'::timestamptz + ((i / {per}) * {w_us}::bigint "
                    f"+ (i % {per}) * {w_us}::bigint / {per}) * interval '1 microsecond', (i % 100)::int, "
                    f"((i * 7919) % 10007)::float8 / 100 FROM generate_series(0::bigint, {nb * per - 1}::bigint) i;\n"
                    f"CREATE INDEX ON {table} (ts);\nVACUUM ANALYZE {table};\n")
                vt, vp = f"{table}_typed", f"{table}_pct"
                for v, cols in ((vt, AGG_COLS), (vp, pct)):
                    sql(f"SELECT hybridagg.create('{v}', $q${definition(table, cols, bucket)}$q$, "
                        "mode => 'hybrid', seal_after => '1 hour', with_data => true);")
                at, ap = agg_id(vt), agg_id(vp)

                def touch(buckets, devices=None):
                    """one INSERT: a row in the middle of each (bucket, device) group, of
                    every device of the buckets, or of the device paired with each bucket"""
                    b = f"ARRAY[{', '.join(str(x) for x in buckets)}]"
                    src = (f"unnest({b}) b, generate_series(0, 99) d" if devices is None
                           else f"unnest({b}, ARRAY[{', '.join(str(x) for x in devices)}]) x(b, d)")
                    sql(f"INSERT INTO {table} SELECT '{t_base}'::timestamptz + (b * {w_us}::bigint + {w_us // 2}) "
                        f"* interval '1 microsecond', d, 50.5 FROM {src};")

                def folds(n_groups):
                    r = self.worker_folds({at: n_groups, ap: n_groups})
                    return {vt: r[at], vp: r[ap]}

                main = {vt: [], vp: []}
                one = {vt: [], vp: []}
                jit = {"default": [], "off": []}
                touched = [j * stride for j in range(kb)]
                ones = list(range(min(100, nb))) if letter == "b" else []
                for rep in range(self.reps):
                    touch(touched)
                    for v, ms in folds(K).items():
                        main[v].append(ms)
                    if ones:
                        # one device in each of n buckets: the recompute reads every device's rows of them
                        touch(ones, [j % 100 for j in ones])
                        for v, ms in folds(len(ones)).items():
                            one[v].append(ms)
                        # the same fold through hybridagg.fold() from a session, jit at its default and off
                        for setting in (("default", "off") if rep % 2 == 0 else ("off", "default")):
                            touch(touched)
                            jit[setting].append(self.fold_ms(vp, setting))
                            self.fold_ms(vt, "off")
                    log(f"  W9{letter} rep {rep + 1} (R={R:,}, K={K:,}): fold {main[vp][-1]:.1f} ms recomputed, "
                        f"{main[vt][-1]:.1f} ms typed" + (f"; one device per bucket ({len(ones)} groups) "
                                                          f"{one[vp][-1]:.1f} ms vs {one[vt][-1]:.1f} ms; "
                                                          f"fold() jit on {jit['default'][-1]:.1f} ms, off "
                                                          f"{jit['off'][-1]:.1f} ms" if ones else ""))
                self.check_exact(f"W9{letter}", vp, table, pct, bucket, ["median"])
                self.check_exact(f"W9{letter}", vt, table, AGG_COLS, bucket, ["total", "mean", "lo", "hi"])
                rows = K * R
                common = (f"{nb:,} buckets ({width}) of 100 devices x {R:,} rows ({nb * per:,} rows, ts index), "
                          f"hybrid aggregates of {pct} (recomputed) and of W1's typed columns on it, worker held "
                          f"off; each repetition one INSERT of a row into each of {K:,} groups ({kb} buckets x 100 "
                          f"devices, spread), then the worker is let go and folds both: the worker's own "
                          f"last_fold_seconds; fold {statistics.median(main[vp]):.1f} ms (recomputing ~{rows:,} "
                          f"base rows) vs {statistics.median(main[vt]):.1f} ms typed")
                self.add(Figure(f"W9{letter}", f"recompute fold: {K:,} groups x {R:,} rows ({width} buckets)",
                                "ms/group", [x / K for x in main[vp]], [x / K for x in main[vt]], "typed fold",
                                note=common))
                self.add(Figure(f"W9{letter}'", "  same, per base row recomputed", "µs/row",
                                [x * 1000 / rows for x in main[vp]], note=common))
                if ones:
                    n1 = len(ones)
                    self.add(Figure(f"W9{letter}1", f"  R={R:,}, {n1} groups, one device per bucket", "ms/group",
                                    [x / n1 for x in one[vp]], [x / n1 for x in one[vt]], "typed fold",
                                    note=f"{n1} groups, each one device of a different bucket: the recompute reads "
                                         f"all 100 devices' rows of each bucket (~{n1 * per:,} rows) and keeps "
                                         f"the {n1} dirty groups; fold {statistics.median(one[vp]):.1f} ms vs "
                                         f"{statistics.median(one[vt]):.1f} ms typed"))
                    self.add(Figure(f"W9{letter}j", f"  W9{letter} through fold(), jit at its default (on)",
                                    "ms", jit["default"], jit["off"], "same, SET jit = off",
                                    note=f"the fold of W9{letter}'s {K:,} groups through hybridagg.fold() in a fresh "
                                         f"session, jit at PostgreSQL's default (on) vs off (A B, B A); the "
                                         f"worker runs with jit = off"))
                sql(f"SET client_min_messages = warning;\nSELECT hybridagg.drop('{vt}'); "
                    f"SELECT hybridagg.drop('{vp}');\nDROP TABLE {table};\n")
        finally:
            release_worker()

    def w10(self):
        """W10: a fold of ~13,000 dirty deltas, time column NULLable vs NOT NULL (issue 14)."""
        reps = min(self.reps, 4)             # each repetition deletes 2 or 3 of the 10 rows of each group
        minutes = 200 if self.quick else 1000
        stride = minutes // 130
        t_base = val("SELECT date_trunc('day', now()) - interval '10 days'")
        tables = {"w10_nn": False, "w10_null": True, "w10_nulls": True}
        aids = {}
        for t, nullable in tables.items():
            create_table(t, index=False, ts_null=nullable)
            sql(f"INSERT INTO {t} (ts, device_id, value) {feed_select(t_base, 0, minutes * 1000)};\n"
                + (f"INSERT INTO {t} SELECT NULL, d, k FROM generate_series(0, 99) d, generate_series(0, 99) k;\n"
                   if t == "w10_nulls" else "")
                + f"CREATE INDEX ON {t} (ts);\nVACUUM ANALYZE {t};\n")
            aids[t] = create_streaming(t, f"{t}_1m")
        rounds = {t: 0 for t in tables}

        def delete_round(t):
            """13 DELETEs, each of one row of each of 1,000 groups (10 minutes x 100
            devices): 13,000 dirty deltas, min and max lost a row; on w10_nulls also
            one NULL-time row of each device (100 more)"""
            k = rounds[t]
            rounds[t] += 1
            stmts = []
            for j in range(13):
                mins = ", ".join(str((10 * j + q) * stride) for q in range(10))
                stmts.append(f"DELETE FROM {t} x USING unnest(ARRAY[{mins}]) m WHERE x.ts >= '{t_base}'::timestamptz "
                             f"+ m * interval '1 minute' + interval '{6 * k} seconds' AND x.ts < '{t_base}'::timestamptz "
                             f"+ m * interval '1 minute' + interval '{6 * k + 6} seconds'")
            if t == "w10_nulls":
                stmts.append(f"DELETE FROM {t} WHERE ts IS NULL AND value = {k}")
            sql(";\n".join(stmts) + ";\n")
            n, d = (int(x) for x in sql(f"SELECT count(*), count(*) FILTER (WHERE __dirty) "
                                        f"FROM hybridagg_internal.delta_{aids[t]};").strip().split("|"))
            want = 13_100 if t == "w10_nulls" else 13_000
            if n != want or d != want:
                raise BenchError(f"{t}: {n} deltas ({d} dirty) pending, expected {want}")

        res = {t: [] for t in tables}
        jit = {"default": [], "off": []}
        hold_worker()
        try:
            for rep in range(reps):
                for t in tables:
                    delete_round(t)
                r = self.worker_folds({aids[t]: 13_100 if t == "w10_nulls" else 13_000 for t in tables})
                for t in tables:
                    res[t].append(r[aids[t]])
                # through hybridagg.fold() from a session, jit at its default and off
                setting = ("default", "off")[rep % 2]
                delete_round("w10_nn")
                jit[setting].append(self.fold_ms("w10_nn_1m", setting))
                log(f"  W10 rep {rep + 1}: the worker's fold of 13,000 dirty deltas " + ", ".join(
                    f"{t} {res[t][-1]:.0f} ms" for t in tables) + f"; fold() with jit {setting} {jit[setting][-1]:.0f} ms")
            for setting in ("default", "off"):       # the same number of each
                while len(jit[setting]) < reps:
                    delete_round("w10_nn")
                    jit[setting].append(self.fold_ms("w10_nn_1m", setting))
        finally:
            release_worker()
        for t in tables:
            self.check_exact("W10", f"{t}_1m", t, AGG_COLS, BUCKET, ["total", "mean", "lo", "hi"])
        common = (f"{minutes * 1000:,} rows (W1's feed: {minutes} minutes x 100 devices x 10 rows, ts index), a "
                  f"hybrid aggregate of W1's typed columns (min, max) on each table, worker held off; each "
                  f"repetition 13 DELETEs of one row of each of 1,000 groups (130 minutes spread over the table "
                  f"x 100 devices), then the worker is let go and folds them: the worker's own "
                  f"last_fold_seconds, from when it holds the aggregate's lock to the end of the fold "
                  f"(jit off); {reps} repetition(s)")
        self.add(Figure("W10", "fold of 13,000 dirty deltas, time column NULLable", "ms", res["w10_null"],
                        res["w10_nn"], "same, ts NOT NULL", target=("value", "<", 3000, "< 3 s (issue 14)"),
                        note=common + "; the same rows in both tables"))
        self.add(Figure("W10n", "  same, with 10,000 NULL-time rows, 100 deleted", "ms", res["w10_nulls"],
                        res["w10_nn"], "same, ts NOT NULL", target=("value", "<", 3000, "< 3 s (issue 14)"),
                        note=common + "; the NULLable table also holds 100 NULL-time rows per device, and each "
                                      "repetition deletes one of each device (the NULL bucket dirty: 13,100 deltas)"))
        self.add(Figure("W10j", "  NOT NULL, through fold(), jit at its default (on)", "ms", jit["default"],
                        jit["off"], "same, SET jit = off",
                        note="the same fold of 13,000 dirty deltas on w10_nn through hybridagg.fold() in a fresh "
                             "session (psql's time: the lock is held until its commit), jit at PostgreSQL's "
                             "default (on) vs off; the worker runs with jit = off"))
        sql("SET client_min_messages = warning;\n"
            + "".join(f"SELECT hybridagg.drop('{t}_1m'); DROP TABLE {t};\n" for t in tables))


    def writer_stall(self, stmt, seconds):
        """The longest INSERT of one pgbench writer (one client, 500 single-row
        inserts a second into events, --rate: an insert's time counts from when
        it was due) over a window of `seconds`, but its first 100, with stmt
        run in another session from 1 s into the window (None: nothing runs).
        Returns (longest insert in ms, stmt's time in ms as psql measures it)."""
        script = os.path.join(self.tmp, "w11_insert.sql")
        with open(script, "w") as f:
            f.write("INSERT INTO events VALUES (now(), 7, 1.5);\n")
        prefix = os.path.join(self.tmp, f"w11_log_{time.monotonic_ns()}")
        cmd = [PGBENCH, "-n", "-c", "1", "-R", "500", "-T", str(seconds), "-l",
               f"--log-prefix={prefix}", "-f", script]
        writer = subprocess.Popen(cmd, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        stmt_ms = None
        try:
            time.sleep(1)
            if stmt:
                stmt_ms = timed([stmt])[0]
        finally:
            _, err = writer.communicate(timeout=seconds + 600)
        if writer.returncode != 0:
            raise BenchError(f"pgbench writer failed: {err.strip()[-500:]}")
        latencies = []
        logs = [n for n in os.listdir(self.tmp) if n.startswith(os.path.basename(prefix))]
        for name in logs:
            with open(os.path.join(self.tmp, name)) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) >= 3 and fields[2].isdigit():
                        latencies.append(int(fields[2]))   # µs, from its scheduled start
            os.remove(os.path.join(self.tmp, name))
        # the first 100 inserts (0.2 s) warm the writer's session up (its first
        # capture compiles the definitions), before anything else runs
        if len(latencies) <= 100:
            raise BenchError(f"pgbench logged {len(latencies)} inserts in {seconds} s")
        return max(latencies[100:]) / 1000, stmt_ms

    def w11(self):
        """W11: writer stall during alter() batch -> hybrid and hybrid -> batch on events."""
        self.tmp = os.path.abspath(os.path.join(self.args.out, "w11"))
        os.makedirs(self.tmp, exist_ok=True)
        view = "events_w11"
        # seal_after such that the watermark is an hour below the newest generated row
        # (events ends at setup's now()): batch's raw tail above it is the last hour
        seal = "(now() - '{end}'::timestamptz + interval '1 hour')".format(end=self.end)
        sql(f"SELECT hybridagg.create('{view}', $q${definition('events')}$q$, mode => 'batch', "
            f"seal_after => {seal});")
        aid = agg_id(view)
        tail = int(val(f"SELECT count(*) FROM events e, hybridagg_internal.aggregate a "
                       f"WHERE a.id = {aid} AND e.ts >= a.watermark_time"))
        stalls = {"hybrid": [], "batch": []}
        alters = {"hybrid": [], "batch": []}
        base = []
        # a first pair, not counted, tells how long a window must be
        warm = max(timed([f"SELECT hybridagg.alter('{view}', mode => 'hybrid', seal_after => {seal})",
                          f"SELECT hybridagg.alter('{view}', mode => 'batch', seal_after => {seal})"]))
        window = int(warm / 1000 * 3) + 3
        for rep in range(self.reps):
            for mode in ("hybrid", "batch"):
                stall, ms = self.writer_stall(
                    f"SELECT hybridagg.alter('{view}', mode => '{mode}', seal_after => {seal})", window)
                stalls[mode].append(stall)
                alters[mode].append(ms)
                self.check_exact("W11", view, "events", AGG_COLS, BUCKET, ["total", "mean", "lo", "hi"])
            base.append(self.writer_stall(None, window)[0])
            log(f"  W11 rep {rep + 1}: longest insert during batch -> hybrid {stalls['hybrid'][-1]:.0f} ms "
                f"(alter {alters['hybrid'][-1]:.0f} ms), hybrid -> batch {stalls['batch'][-1]:.0f} ms "
                f"(alter {alters['batch'][-1]:.0f} ms), without alter {base[-1]:.1f} ms")
        sql(f"SELECT hybridagg.drop('{view}');")
        shutil.rmtree(self.tmp, ignore_errors=True)
        common = (f"events ({self.rows:,} rows, W3's table; the other figures' aggregate events_1m on it too), "
                  f"a second aggregate of W1's typed columns whose watermark is an hour below the newest row "
                  f"({tail:,} rows in the raw tail above it); one pgbench writer, 500 single-row inserts a "
                  f"second (pgbench --rate: an insert's time counts from when it was due, so that it includes "
                  f"its wait for the lock), while alter() runs in another session: its longest insert but the "
                  f"first 100 (pgbench's per-transaction latency log), beside the longest insert of the same writer over the same window without an "
                  f"alter; {self.reps} repetition(s), the view checked against the raw query after each alter")
        self.add(Figure("W11", "alter batch -> hybrid: longest writer wait", "ms", stalls["hybrid"], base,
                        "longest insert, no alter",
                        note=common + "; batch -> hybrid installs capture and recomputes the raw tail into recent "
                                      "under SHARE ROW EXCLUSIVE"))
        self.add(Figure("W11a", "  the alter itself, batch -> hybrid", "ms", alters["hybrid"], ratio=None,
                        note="psql's time of the alter statement, commit included"))
        self.add(Figure("W11b", "alter hybrid -> batch: longest writer wait", "ms", stalls["batch"], base,
                        "longest insert, no alter",
                        note=common + "; hybrid -> batch folds what is pending, moves recent below the watermark "
                                      "into history and removes capture under SHARE ROW EXCLUSIVE"))
        self.add(Figure("W11c", "  the alter itself, hybrid -> batch", "ms", alters["batch"], ratio=None,
                        note="psql's time of the alter statement, commit included"))

    # ------------------------------------------------------------------
    def worker_cpu_s(self):
        """CPU seconds (user + system) the database's hybridagg worker has used."""
        pid = worker_pid()
        if pid is None:
            raise BenchError("no hybridagg worker runs in the benchmark database")
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), pid

    def worker_settled_cpu_s(self, pid_before):
        """The worker's CPU seconds once it has stopped using any: after it
        folded and sealed what a write gave it, two readings 0.5 s apart agree."""
        last, pid = self.worker_cpu_s()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now_s, pid = self.worker_cpu_s()
            if pid != pid_before:
                raise BenchError("the hybridagg worker restarted during W12")
            if now_s == last:
                return now_s
            last = now_s
        raise BenchError("the hybridagg worker kept using CPU for 300 s after the writes of W12")

    def w12(self):
        """W12: the five modes side by side: write overhead, maintenance cost, freshness, view latency."""
        modes = ["batch", "streaming", "hybrid", "lambda", "kappa"]
        batches = 5 if self.quick else 50
        rows_per_rep = batches * 10000
        history_rows = max(20000, self.rows // 10)
        # the rows already there: 10 rows per device-minute up to end - 3 days;
        # each repetition then writes batches x 10,000 rows (10 minutes of the
        # feed each) into its own window of the day before that, old enough
        # that every mode's stored part can take them (below seal_after)
        end = val("SELECT date_trunc('minute', now())")
        hist_start = val(f"SELECT '{end}'::timestamptz - interval '3 days' - {history_rows} * interval '60 ms'")
        window_min = rows_per_rep * 60 // 1000 // 60 + 1
        tables = {m: f"w12_{m}" for m in modes}
        tables["bare"] = "w12_bare"
        aids = {}
        sql("SET client_min_messages = warning;\n"
            + "".join(f"SELECT hybridagg.drop(name) FROM hybridagg.aggregates WHERE name = '{t}_1m';\n"
                      for t in tables.values()))
        for m, t in tables.items():
            create_table(t)
            sql(f"INSERT INTO {t} (ts, device_id, value) {feed_select(hist_start, 0, history_rows)};\n"
                f"VACUUM ANALYZE {t};\n")
            if m == "bare":
                continue
            sql(f"SELECT hybridagg.create('{t}_1m', $q${definition(t)}$q$, mode => '{m}', "
                "seal_after => '1 hour', with_data => true);")
            aids[m] = agg_id(f"{t}_1m")
            if m != "batch":
                wait_drained(aids[m])
        write = {m: [] for m in tables}
        held_write = {m: [] for m in modes if m != "batch"}
        upkeep = {m: [] for m in modes}
        fresh = {m: [] for m in modes}
        for rep in range(self.reps):
            # each repetition's window holds its rows and, after them, the
            # same number again for the streaming modes' held-off writes
            t0 = val(f"SELECT '{end}'::timestamptz - interval '3 days' + {rep * 2 * window_min} * interval '1 minute'")
            stmts = [f"{feed_select(t0, k * 10000, 10000)}" for k in range(batches)]
            held_stmts = [f"{feed_select(t0, rows_per_rep + k * 10000, 10000)}" for k in range(batches)]
            for m, t in tables.items():             # the same rows, each table in turn
                sql("CHECKPOINT;")
                cpu0, pid = self.worker_cpu_s()
                total = sum(timed([f"INSERT INTO {t} (ts, device_id, value) {s}" for s in stmts])) / 1000
                write[m].append(total)
                if m == "bare":
                    continue
                upkeep_s = 0.0
                if m != "batch":
                    fresh[m].append(wait_drained(aids[m], poll=0.05))
                    upkeep_s += self.worker_settled_cpu_s(pid) - cpu0
                if m in ("batch", "lambda"):
                    # what the scheduled batch run does with these rows: they are
                    # below the watermark, so a recompute of their range
                    ms = timed([f"CALL hybridagg.materialize('{t}_1m', '{t0}'::timestamptz, "
                                f"'{t0}'::timestamptz + {window_min} * interval '1 minute')"],
                               prelude="SET client_min_messages = warning;")[0]
                    upkeep_s += ms / 1000
                    if m == "batch":
                        fresh[m].append(ms / 1000)
                upkeep[m].append(upkeep_s * 1_000_000 / rows_per_rep)
                log(f"  W12 rep {rep + 1} {m}: writes {total:.2f} s, upkeep {upkeep_s:.2f} s")
                if m in held_write:
                    # the capture alone (as W1sc, W1pc and W1cc): the same number of INSERTs
                    # with the worker held off, so that no fold runs beside the
                    # writer on the same cores; folded afterwards, not timed
                    sql("CHECKPOINT;")
                    hold_worker()
                    try:
                        held = sum(timed([f"INSERT INTO {t} (ts, device_id, value) {s}"
                                          for s in held_stmts])) / 1000
                    finally:
                        release_worker()
                    held_write[m].append(held)
                    wait_drained(aids[m])
                    log(f"  W12 rep {rep + 1} {m}: writes with the worker held off {held:.2f} s")
            log(f"  W12 rep {rep + 1} bare: writes {write['bare'][-1]:.2f} s")
        # every view exact against its defining query before its latency is taken
        for m, t in tables.items():
            if m == "bare":
                continue
            n = self.diff_count(f"{t}_1m", definition(t), ["total", "mean", "lo", "hi"])
            if n:
                self.failed = True
                raise BenchError(f"W12: {t}_1m ({m}) differs from its defining query in {n} groups")
        sql("DROP TABLE IF EXISTS w12_final;\n"
            "CREATE TABLE w12_final AS SELECT * FROM w12_hybrid_1m;\n"
            "CREATE UNIQUE INDEX ON w12_final (bucket, device_id);\n"
            "VACUUM ANALYZE;\n")
        since = f"'{end}'::timestamptz - interval '3 days'"
        def qa(rel):
            return f"SELECT * FROM {rel} WHERE device_id = 42 AND bucket >= {since} ORDER BY bucket"
        def qb(rel):
            return (f"SELECT date_trunc('hour', bucket) AS hour, sum(n) AS n, sum(total) / sum(n) AS mean, "
                    f"min(lo) AS lo, max(hi) AS hi FROM {rel} GROUP BY 1 ORDER BY 1")
        rels = [f"{tables[m]}_1m" for m in modes] + ["w12_final"]
        order = [(q, rel) for q in "ab" for rel in rels]
        times = timed([(qa if q == "a" else qb)(rel) for q, rel in order] * (self.reps + 1))[len(order):]
        lat = {key: times[i::len(order)] for i, key in enumerate(order)}
        for m in modes:
            t = tables[m]
            self.add(Figure(f"W12w-{m}", f"{m}: bulk ingest {batches}x10k rows", "s", write[m], write["bare"],
                            "bare table", note="late rows (a day before the newest), the same in every mode"))
            if m == "batch":
                note = ("seconds of CALL materialize over the range of the new rows (what a scheduled "
                        "run does with rows below the watermark), per million rows written")
            elif m == "lambda":
                note = "worker CPU (fold) plus the batch layer's materialize of the range, per million rows"
            else:
                note = "worker CPU seconds (/proc, user + system) for folding and sealing, per million rows"
            self.add(Figure(f"W12c-{m}", f"  {m}: upkeep per million rows", "s", upkeep[m], note=note,
                            ratio=None))
            if m == "batch":
                self.add(Figure(f"W12f-{m}", f"  {m}: stored part fresh after", "s", fresh[m], ratio=None,
                                note="the schedule of materialize, plus its run (this figure): until then "
                                     "the view serves late rows below the watermark stale; rows above it "
                                     "are read raw, fresh"))
            else:
                self.add(Figure(f"W12f-{m}", f"  {m}: stored part fresh after", "s", fresh[m], ratio=None,
                                note="seconds from the last INSERT's commit until the worker folded every "
                                     "delta (polled every 50 ms); the view is exact at once either way"))
            for q, label in (("a", "one device, per minute"), ("b", "whole range, per hour")):
                self.add(Figure(f"W12{q}-{m}", f"  {m}: view ({q}) {label}", "ms", lat[(q, f"{t}_1m")],
                                lat[(q, "w12_final")], "final-rows table"))
        # advise() on the same aggregates, from the counters of these very
        # writes and runs: its write cost of one of these statements, and its
        # batch run, beside what the harness measured (issue 11: within 30%)
        bare_stmt_us = statistics.median(write["bare"]) * 1e6 / batches
        for m in modes:
            out = val(f"SELECT write_us_per_statement + 10000 * write_us_per_row, batch_seconds_per_run "
                      f"FROM hybridagg.advise('{tables[m]}_1m') WHERE mode = '{m}'")
            stmt_us, run_s = (None if x == "" else float(x) for x in out.split("|"))
            measured_us = [(w * 1e6 / batches) - bare_stmt_us for w in write[m]]
            if m != "batch" and stmt_us is not None:
                self.add(Figure(f"W12v-{m}", f"  {m}: advise()'s write cost of a 10,000-row INSERT", "us",
                                [stmt_us], measured_us, "measured here (vs the bare table)",
                                target=("ratio", "within", 0.3, "within 30%"),
                                note="advise()'s write_us_per_statement + 10,000 x write_us_per_row, fitted "
                                     "to the capture counters of W12's INSERTs (both kinds) plus its sampled "
                                     "transition table; the baseline is each repetition's time per INSERT "
                                     "minus the bare table's median, with the worker folding meanwhile"))
                held_us = [(w * 1e6 / batches) - bare_stmt_us for w in held_write[m]]
                self.add(Figure(f"W12v'-{m}", f"  {m}: the same, worker held off", "us", [stmt_us], held_us,
                                "measured here, capture alone", ratio="x",
                                note="the same advise() figure beside another block of as many INSERTs per "
                                     "repetition, with the worker held off (hybridagg.fold_interval 1h, as "
                                     "W1sc): what the writer pays for the capture without the fold's work "
                                     "competing for the same cores and WAL (the fold is advise()'s "
                                     "worker_seconds_per_hour)"))
            if m in ("batch", "lambda") and run_s is not None:
                runs = [u * rows_per_rep / 1e6 for u in upkeep[m]] if m == "batch" else None
                if runs:
                    self.add(Figure(f"W12r-{m}", f"  {m}: advise()'s batch run", "s", [run_s], runs,
                                    "materialize measured here", target=("ratio", "within", 0.3, "within 30%"),
                                    note="advise()'s batch_seconds_per_run, from the batch counters of W12's "
                                         "materialize() calls"))
        self.modes_summary = {m: (statistics.median(write[m]) / statistics.median(write["bare"]),
                                  statistics.median(upkeep[m]), statistics.median(fresh[m]))
                              for m in modes}

    # ------------------------------------------------------------------
    def run(self):
        self.machine()
        # W4r (W4 on views of recomputed values) adds capture triggers to events
        # for a while: it runs after W5, whose DML it would otherwise slow
        steps = [("W3", self.w3), ("W4", self.w4), ("W7", self.w7), ("W5", self.w5), ("W4R", self.w4_recomputed),
                 ("W1", self.w1), ("W1X", self.w1x), ("W2", self.w2), ("W6", self.w6), ("W8", self.w8), ("W9", self.w9),
                 ("W10", self.w10), ("W11", self.w11), ("W12", self.w12)]
        try:
            self.setup()
        except BenchError as e:
            log(f"setup failed: {e}")
            for fid, _ in steps:
                f = self.na(fid, "setup failed", "", str(e).splitlines()[0])
                f.error = str(e)
            self.failed = True
            return
        settled = False
        for fid, fn in steps:
            if not self.wanted(fid):
                continue
            if fid in ("W4", "W7") and not settled:
                log("settling events_1m for W4 and W7")
                self.settle()
                settled = True
            log(fn.__doc__.splitlines()[0])
            t = time.monotonic()
            try:
                fn()
            except Exception as e:          # a figure that errors is a failure, not a number
                log(f"{fid} FAILED: {e}")
                f = self.na(fid, "FAILED", "", str(e).splitlines()[0][:200])
                f.error = str(e)
                self.failed = True
                release_worker_quietly()
            log(f"{fid} done in {time.monotonic() - t:.0f} s")

    # ------------------------------------------------------------------
    def table(self):
        head = ["figure", "median", "min", "max", "baseline (median)", "ratio", "target", "met?"]
        rows = []
        for f in self.ordered():
            label = f"{f.fid} {f.name.strip()}" if not f.name.startswith("  ") else f"{f.fid}   {f.name.strip()}"
            if f.na or f.error:
                rows.append([label, ("ERROR: " if f.error else "not available: ") + (f.na or ""),
                             "", "", "", "", f.target[3] if f.target else "", "ERROR" if f.error else "-"])
                continue
            unit = f" {f.unit}"
            base = f"{fmt(f.base_median, f.unit)}{unit} {f.baseline_name}" if f.baseline else "-"
            met = {True: "yes", False: "NO", None: "-"}[f.met]
            rows.append([label, fmt(f.median, f.unit) + unit, fmt(min(f.values), f.unit),
                         fmt(max(f.values), f.unit), base, fmt_ratio(f.ratio, f.ratio_kind),
                         f.target[3] if f.target else "-", met])
        normal = [r for r in rows if not r[1].startswith(("ERROR", "not available"))]
        widths = [max([len(h)] + [len(r[i]) for r in normal] + ([len(r[0]) for r in rows] if i == 0 else []))
                  for i, h in enumerate(head)]
        lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths)),
                 "-+-".join("-" * w for w in widths)]
        for r in rows:
            if r[1].startswith(("ERROR", "not available")):
                lines.append(r[0].ljust(widths[0]) + " | " + r[1] + (f"  [target {r[6]}]" if r[6] else ""))
            else:
                lines.append(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
        return "\n".join(lines)

    def header_lines(self):
        return [f"{k}: {self.info[k]}" for k in
                ("date", "machine", "postgres", "hybridagg", "settings", "workload", "command", "backfill")
                if k in self.info]

    def write_csv(self, path):
        with open(path, "w", newline="") as fh:
            for line in self.header_lines():
                fh.write(f"# {line}\n")
            w = csv.writer(fh)
            w.writerow(["figure", "name", "unit", "median", "min", "max", "reps", "baseline", "baseline_median",
                        "ratio", "ratio_kind", "target", "met", "status", "note"])
            for f in self.ordered():
                status = "error" if f.error else "not available" if f.na else "ok"
                r = f.ratio
                w.writerow([f.fid, f.name.strip(), f.unit,
                            "" if f.median is None else f"{f.median:.6g}",
                            "" if not f.values else f"{min(f.values):.6g}",
                            "" if not f.values else f"{max(f.values):.6g}",
                            ";".join(f"{v:.6g}" for v in f.values), f.baseline_name,
                            "" if f.base_median is None else f"{f.base_median:.6g}",
                            "" if r is None else f"{r:.4g}",
                            {"x": "value/baseline", "speedup": "baseline/value"}.get(f.ratio_kind, ""),
                            f.target[3] if f.target else "",
                            {True: "yes", False: "no", None: ""}[f.met], status,
                            (f.error or f.na or f.note or "")])

    def write_chart(self, out_dir, png):
        """Bars: each figure's ratio (log scale) beside its target."""
        items = []
        for f in self.ordered():
            if f.na or f.error or f.target is None:
                continue
            what, op, bound, _ = f.target
            if what == "ratio" and f.ratio is not None:
                items.append((f.fid, f.ratio, 1.0 if op == "within" else bound, op, f.met))
            elif what == "value" and f.unit == "rows/s":
                items.append((f.fid + " /100k", f.median / bound, 1.0, op, f.met))
            elif what == "value" and f.unit == "MB":
                items.append((f.fid + " /64MB", f.median / bound, 1.0, op, f.met))
        if not items:
            return False
        dat = os.path.join(out_dir, "chart.dat")
        with open(dat, "w") as fh:
            for i, (label, r, t, op, met) in enumerate(items):
                fh.write(f'{i} {max(r, 1e-3):.6g} {t:.6g} {1 if met else 0} "{r:.2f}x" "{op} {t:g}"\n')
        xtics = ", ".join(f'"{label}" {i}' for i, (label, *_rest) in enumerate(items))
        stale = [f for f in self.figures if f.fid in ("W5", "W5'") and f.values]
        w5 = ", ".join(f"{f.fid}: {max(f.values):.0f} stale groups" for f in stale) or "W5: not measured"
        title = (f"hybridagg benchmarks, {self.info.get('date', '')}: ratio to baseline vs target\\n"
                 f"{self.info.get('machine', '')}; {self.info.get('postgres', '')}; hybridagg "
                 f"{self.info.get('hybridagg', '')}\\n{self.info.get('workload', '')}; {w5}")
        ys = [x[1] for x in items] + [x[2] for x in items]
        gp = os.path.join(out_dir, "chart.gp")
        with open(gp, "w") as fh:
            fh.write(f"""set terminal pngcairo noenhanced size 1400,720 font 'DejaVu Sans,10'
set output '{png}'
set title "{title}"
set logscale y
set yrange [{min(ys) / 2:.4g}:{max(ys) * 3:.4g}]
set ylabel "ratio (log scale)"
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
set format y "%g"
set xrange [-0.7:{len(items) - 0.3}]
set xtics ({xtics}) rotate by -35 nomirror
set grid ytics
set boxwidth 0.36
set style fill solid 0.8 border -1
set key top left
plot '{dat}' using ($1-0.19):($4 == 1 ? $2 : 1/0) with boxes lc rgb '#2e8b57' title 'measured: target met', \\
     '' using ($1-0.19):($4 == 0 ? $2 : 1/0) with boxes lc rgb '#cc3333' title 'measured: target missed', \\
     '' using ($1+0.19):3 with boxes fill empty lc rgb 'black' lw 1.5 title 'target', \\
     '' using ($1-0.19):2:5 with labels offset 0,0.8 font ',9' notitle, \\
     '' using ($1+0.19):3:6 with labels offset 0,0.8 font ',8' notitle
""")
        p = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if p.returncode != 0:
            log(f"gnuplot failed: {p.stderr.strip()}")
            return False
        return True


    def write_modes_chart(self, out_dir, png):
        """W12 as one picture: each mode's cost (its writers' overhead and its
        upkeep) against how soon its stored part is fresh."""
        if not self.modes_summary:
            return False
        dat = os.path.join(out_dir, "modes.dat")
        with open(dat, "w") as fh:
            # labels above and below their points in turn, so that close points stay legible
            for i, (m, (ratio, upkeep, fresh)) in enumerate(self.modes_summary.items()):
                if m == "batch":           # its run waits for its schedule
                    fresh += BATCH_SCHEDULE_S
                    label = f"batch (every {BATCH_SCHEDULE_S // 60} min), writers {ratio:.2f}x"
                else:
                    label = f"{m}, writers {ratio:.2f}x"
                fh.write(f'{max(fresh, 1e-3):.6g} {max(upkeep, 1e-3):.6g} "{label}" {1.3 if i % 2 else 0.77}\n')
        title = (f"hybridagg W12, the five modes on the same writes ({self.info.get('date', '')})\\n"
                 f"{self.info.get('machine', '')}; {self.info.get('postgres', '')}; hybridagg "
                 f"{self.info.get('hybridagg', '')}")
        gp = os.path.join(out_dir, "modes.gp")
        with open(gp, "w") as fh:
            fh.write(f"""set terminal pngcairo noenhanced size 1100,640 font 'DejaVu Sans,10'
set output '{png}'
set title "{title}"
set logscale xy
set xlabel "stored part fresh after (s, log scale): the worker's drain; batch: its schedule plus its run"
set ylabel "upkeep: s per million rows written (log scale)"
set grid
set offsets graph 0.1, graph 0.5, graph 0.3, graph 0.3
plot '{dat}' using 1:2 with points pt 7 ps 2 lc rgb '#2e6b9e' notitle, \\
     '' using ($1*1.12):($2*$4):3 with labels left font ',9' notitle
""")
        p = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if p.returncode != 0:
            log(f"gnuplot failed: {p.stderr.strip()}")
            return False
        return True


def release_worker_quietly():
    try:
        release_worker()
    except Exception:
        pass


def main():
    ap = argparse.ArgumentParser(description="hybridagg benchmarks W1-W10 (run through bench/run)")
    ap.add_argument("--quick", action="store_true", help="CI smoke test: small scale, one repetition")
    ap.add_argument("--scale", type=float, help="multiplies the 10M rows (and the 7 days, to keep the density)")
    ap.add_argument("--days", type=float, help="span of the generated events in days (default 7 x scale)")
    ap.add_argument("--reps", type=int, help="repetitions of each figure (default 3; 1 with --quick)")
    ap.add_argument("--only", help="comma-separated figures to run, e.g. W1,W4 (default: all; W4 includes "
                                   "W4R, W4 on views of recomputed values, which W4R alone selects)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="output folder (default bench/out)")
    ap.add_argument("--publish", action="store_true",
                    help="also copy the CSV and chart to bench/results/latest.{csv,png}")
    ap.add_argument("--w2-seconds", type=int, default=20, help="pgbench -T of each W2 run (default 20)")
    ap.add_argument("--w6-step-seconds", type=int, default=20, help="length of each W6 rate step (default 20)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    b = Bench(args)
    if not args.quick and b.reps < 3:
        log(f"warning: {b.reps} repetition(s); real runs use --reps 3 or more")
    b.run()

    server_log = os.environ.get("BENCH_SERVER_LOG")
    if server_log and os.path.exists(server_log):
        crashes = [l for l in open(server_log, errors="replace")
                   if "terminated by signal" in l or "was terminated by exception" in l]
        if crashes:
            b.failed = True
            log("the server log shows crashed backends:\n" + "".join(crashes[:5]))

    table = b.table()
    text = "\n".join(b.header_lines()) + "\n\n" + table + "\n"
    print()
    print(text)
    with open(os.path.join(args.out, "results.txt"), "w") as fh:
        fh.write(text)
        for f in b.figures:
            if f.note or f.error:
                fh.write(f"\n{f.fid}: {f.error or f.note}")
        fh.write("\n")
    csv_path = os.path.join(args.out, "results.csv")
    png_path = os.path.join(args.out, "results.png")
    b.write_csv(csv_path)
    charted = b.write_chart(args.out, png_path)
    modes_png = os.path.join(args.out, "modes.png")
    modes_charted = b.write_modes_chart(args.out, modes_png)
    if modes_charted:
        print(f"modes chart (W12): {modes_png}")
    print(f"CSV: {csv_path}" + (f"\nchart: {png_path}" if charted else "\nchart: not written"))
    print(f"notes of each figure: {os.path.join(args.out, 'results.txt')}")
    if args.publish:
        dest = os.path.join(HERE, "results")
        os.makedirs(dest, exist_ok=True)
        shutil.copy(csv_path, os.path.join(dest, "latest.csv"))
        if charted:
            shutil.copy(png_path, os.path.join(dest, "latest.png"))
        shutil.copy(os.path.join(args.out, "results.txt"), os.path.join(dest, "latest.txt"))
        if modes_charted:
            shutil.copy(modes_png, os.path.join(dest, "modes.png"))
        print(f"published to {dest}/latest.{{csv,png,txt}}")
    if b.failed:
        print("BENCHMARK FAILED: a figure errored or a view differed from its raw query (see above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
