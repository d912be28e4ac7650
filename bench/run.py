"""``make bench``: the portal's hot paths timed against baselines measured in the same run.

Usage: ``python -m bench.run [--rebuild] [--runs N] [--only CASE ...]``

Every case is run several times, each run of the case next to a run of its baseline (so both
see the same load of a shared machine), and the medians are reported with their ratio. The
figures go to standard output as a table and to ``var/bench.json`` as a flat object of
``name: number``. bench/README.md explains each case and how to read the table.

The pages, the exports and the rush are served by gunicorn with these settings; the letters in
bulk by Celery workers. Both use the Redis at ``BENCH_REDIS_URL`` (by default database 7 of
the local server) as their cache and broker, as production uses one.
"""

import argparse
import json
import os
import platform
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "var" / "bench.json"
CASES = (  # cases.CASES
    "changelist",
    "portfolio",
    "dashboard",
    "allocation",
    "decision",
    "results",
    "application",
    "csv",
    "xlsx",
    "rush",
    "letters",
    "bulk",
    "http",
)
#: The prefixes of each case's figures in var/bench.json, where they are not ``<case>_``.
KEYS = {"letters": ("letter_",), "bulk": ("letters_per_s_bulk", "bulk_"), "http": ("http_rps",)}
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def configure() -> None:
    """The environment of bench/settings.py, shared with the gunicorn servers it starts."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.pop("DJANGO_DEBUG", None)
    # One key for this run and its servers, so that a session made here is valid there.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    # Production's shared cache and task queue, in a Redis database of the benchmark's own.
    os.environ["CACHE_URL"] = REDIS
    os.environ["CACHE_KEY_PREFIX"] = "bench"
    os.environ["CELERY_BROKER_URL"] = REDIS
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    parser.add_argument("--runs", type=int, default=11, help="runs of each timed case (11)")
    parser.add_argument("--only", nargs="+", choices=CASES, help="run only these cases")
    args = parser.parse_args(argv)

    configure()
    import django

    django.setup()
    from django.core.management import call_command

    from bench import cases, data, table

    started = time.perf_counter()
    data.ensure_database(rebuild=args.rebuild, log=log)
    calls = data.ensure_data(log=log)
    log("collecting static files")
    call_command("collectstatic", interactive=False, verbosity=0)

    machine = {
        "nproc": os.cpu_count() or 0,
        "load_before": round(os.getloadavg()[0], 2),
        "load5_before": round(os.getloadavg()[1], 2),
    }
    figures: dict[str, float] = {}
    selected = args.only or CASES
    for name in selected:
        log(f"case {name}")
        figures.update(cases.CASES[name](calls=calls, runs=args.runs, log=log))
    machine["load_after"] = round(os.getloadavg()[0], 2)
    machine["load5_after"] = round(os.getloadavg()[1], 2)
    figures.update({f"machine_{key}": value for key, value in machine.items()})
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(OUTPUT.read_text()) if args.only and OUTPUT.exists() else {}
    # The figures of the cases run now replace all of theirs, those of a failure included.
    redone = tuple(prefix for name in selected for prefix in KEYS.get(name, (f"{name}_",)))
    previous = {key: value for key, value in previous.items() if not key.startswith(redone)}
    figures = {**previous, **figures}
    OUTPUT.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(table.table(figures))
    print(
        f"\nMachine: {machine['nproc']} CPUs "
        f"({platform.processor() or platform.machine()}), load average (1 min | 5 min) "
        f"{machine['load_before']} | {machine['load5_before']} before, "
        f"{machine['load_after']} | {machine['load5_after']} after; "
        f"{figures['bench_seconds']:.0f} s in all; PostgreSQL {cases.postgres_version()}, "
        f"Python {platform.python_version()}. Figures in {OUTPUT.relative_to(ROOT)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
