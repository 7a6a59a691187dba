"""Timing one row: warm-up runs, timed samples, the query count and the slowest queries."""

import statistics
import time
from dataclasses import dataclass, field

from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

WARMUP, SAMPLES = 3, 30
SLOW, FEW = 10, 3  # a warm-up run over SLOW x target (and 1 s) cuts the row to FEW samples


def once(function, prepare=None):
    """A measurement that changes what it measures: run once, after `prepare(ctx)` (untimed)
    has warmed up what a long-running process would have warm, instead of a warm-up run."""

    def run(ctx):
        return function(ctx)

    run.runs = (0, 1)
    run.prepare = prepare
    return run


@dataclass
class Result:
    name: str
    size: int
    median_ms: float
    p95_ms: float
    queries: int
    target_ms: float
    sql_ms: float = 0.0
    samples: int = 0
    slowest: list = field(default_factory=list)
    error: str = ""

    @property
    def ok(self):
        return not self.error and self.p95_ms <= self.target_ms

    def as_dict(self):
        keys = ("name", "size", "median_ms", "p95_ms", "queries", "target_ms")
        return {key: getattr(self, key) for key in keys}


def _check(name, value):
    if isinstance(value, HttpResponse) and value.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {value.status_code}, expected 200")


def measure(ctx, name, target_ms, function, *, warmup=WARMUP, samples=SAMPLES):
    """Median and 95th percentile of `samples` timed runs after `warmup` untimed ones.

    Queries are counted (and the slowest kept, for EXPLAIN) on the warm-up runs, so the timed
    runs carry no query-logging overhead; a run-once measurement counts on its only run.
    """
    warmup, samples = getattr(function, "runs", (warmup, samples))
    if getattr(function, "prepare", None):
        function.prepare(ctx)
    queries = []

    def run(count):
        if not count:
            clock = time.perf_counter()
            _check(name, function(ctx))
            return (time.perf_counter() - clock) * 1000
        with CaptureQueriesContext(connection) as captured:
            clock = time.perf_counter()
            _check(name, function(ctx))
            elapsed = (time.perf_counter() - clock) * 1000
        # Copied now: the next request outside the context clears the connection's log.
        queries[:] = captured.captured_queries
        return elapsed

    for _ in range(warmup):
        if run(count=True) > max(SLOW * target_ms, 1000):
            # Far over target (a bad plan, say): a few samples say so; thirty would take
            # minutes. The queries of this run are the ones counted and explained.
            samples = min(samples, FEW)
            break
    times = sorted(run(count=warmup == 0 and index == 0) for index in range(samples))
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)
    return Result(
        name=name,
        samples=len(times),
        size=ctx.size,
        median_ms=round(statistics.median(times), 1),
        p95_ms=round(p95, 1),
        queries=len(queries),
        target_ms=target_ms,
        sql_ms=sum(float(q["time"]) for q in queries) * 1000,
        slowest=slowest[:3],
    )
