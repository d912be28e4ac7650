"""Timing helpers shared by the cases."""

import statistics
import time

from django.db import connection


def interleaved(case, baseline, runs: int) -> tuple[float, float]:
    """Median seconds of ``case`` and of ``baseline``, run in turns (which goes first
    alternates), after one warm-up run of each."""
    case()
    baseline()
    timings = ([], [])
    for run in range(runs):
        order = [(case, timings[0]), (baseline, timings[1])]
        if run % 2:
            order.reverse()
        for function, into in order:
            started = time.perf_counter()
            function()
            into.append(time.perf_counter() - started)
    return statistics.median(timings[0]), statistics.median(timings[1])


def count_queries(function) -> int:
    count = 0

    def counted(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        function()
    return count


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def ratio(case: float, baseline: float) -> float:
    return round(case / baseline, 2)


def timed_pair(name: str, case, baseline, runs: int) -> dict[str, float]:
    case_s, baseline_s = interleaved(case, baseline, runs)
    prefix, _, size = name.partition(":")
    suffix = f"_{size}" if size else ""
    return {
        f"{prefix}_ms{suffix}": ms(case_s),
        f"{prefix}_baseline_ms{suffix}": ms(baseline_s),
        f"{prefix}_ratio{suffix}": ratio(case_s, baseline_s),
    }
