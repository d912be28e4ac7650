"""The portal's own settings with production values, plus the baselines' URLs.

The benchmark measures the portal as it runs in production: ``DEBUG`` off (so no query is
recorded), the cached template loader, whitenoise's manifest storage, persistent database
connections. Only HTTPS is off, because the load generator speaks plain HTTP on loopback.
``bench/run.py`` sets the environment before Django reads this module, and the gunicorn
servers it starts inherit it.
"""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/remigration_bench")
os.environ.setdefault("DJANGO_HTTPS_ONLY", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Collected static files and issued letters of the benchmarks: var/bench/static, var/bench/media.
os.environ.setdefault(
    "DJANGO_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "bench")
)

from remigration_portal.settings import *  # noqa: F403
from remigration_portal.settings import BASE_DIR, TEMPLATES

if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("The benchmarks measure production settings: unset DJANGO_DEBUG.")  # noqa: F405

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]

# The benchmark logs in its own users many times; those lines would only hide its progress.
LOGGING["loggers"]["remigration_portal.security"]["level"] = "WARNING"  # noqa: F405

# The benchmark's coordinator is logged in by the test client, which cannot show a second
# factor; the admin's pages are measured, not the login (tests/test_two_factor.py tests that).
ADMIN_REQUIRES_2FA = False
