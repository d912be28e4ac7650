"""Settings of the portal: one module for development, tests and production.

Everything that differs between machines comes from the environment (see the README's
"Configuration" table). Defaults are the safe ones: without ``DJANGO_DEBUG=1`` the portal
refuses to start unless it is given a ``SECRET_KEY`` and serves only over HTTPS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random secret key in the "
            "environment; for local development set DJANGO_DEBUG=1 instead."
        )
    SECRET_KEY = "development-only-key-never-used-with-debug-off"  # noqa: S105

# Old keys still accepted for signatures while sessions and reset links made with them expire.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "remigration_portal.apps.PortalAdminConfig",  # django.contrib.admin, with its password change
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "remigration_portal",
    "competitions",
    "applications",
    "grants",
    "conversations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The language of a signed-in user's pages, recorded for the mail written to them.
    "competitions.languages.RecordLanguageMiddleware",
    # request.user.is_verified(): whether this session has shown a second factor.
    "django_otp.middleware.OTPMiddleware",
    # A user who has turned on two-factor authentication shows a code before any page.
    "remigration_portal.two_factor.TwoFactorMiddleware",
    # 403 and 404 answers to signed-in users, to the security log.
    "remigration_portal.security_log.DenialLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "remigration_portal.urls"
WSGI_APPLICATION = "remigration_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "remigration_portal.context_processors.portal",
            ],
        },
    },
]

# The embedded default is a SQLite file under var/ so that `make run` needs no service;
# production and CI give a PostgreSQL DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
# SQLite under a web server of several processes: WAL lets reads go on while one transaction
# writes; every transaction takes the write lock when it begins (IMMEDIATE), so one that has
# read can never fail when it comes to write ("database is locked"), and waits up to
# SQLITE_BUSY_TIMEOUT seconds for the lock. Writers queue: select_for_update is a no-op on
# SQLite, and this is what serialises the money rules' transactions there.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password reset throttling (remigration_portal.views.ThrottledPasswordReset): requests are
# counted in the cache, per e-mail address and per client address, over a window. With the
# default local-memory cache each process counts its own; a shared cache (Redis) counts for all.
PASSWORD_RESET_PER_ADDRESS = int(os.environ.get("PASSWORD_RESET_PER_ADDRESS", "3"))
PASSWORD_RESET_PER_CLIENT = int(os.environ.get("PASSWORD_RESET_PER_CLIENT", "10"))
PASSWORD_RESET_WINDOW_SECONDS = 3600

# Login throttling: after 5 failed attempts for one username from one address, that pair is
# locked out for a while, with the same answer whether the username exists or not.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The client's address, for the lockouts and the security log: REMOTE_ADDR, or behind
# TRUSTED_PROXY_COUNT proxies the address the outermost of them received the request from, as
# it wrote it in X-Forwarded-For (see security_log.client_address). Without a proxy the header
# is never read: a client could write anything there.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
AXES_CLIENT_IP_CALLABLE = "remigration_portal.security_log.client_address"

# Two-factor authentication (remigration_portal/two_factor.py): required before any admin page
# unless turned off, and it is off only in development mode by default, so that the demo's
# logins work with the password alone. The test suite imports the settings in development
# mode, so it is off there too except in the tests of two-factor authentication, which turn it
# on: the admin tests log in with force_login and test what the admin does, not the login.
ADMIN_REQUIRES_2FA = env_bool("ADMIN_REQUIRES_2FA", not DEBUG)
OTP_TOTP_ISSUER = "Vidzeme remigrācijas granti"
# After each wrong code the next attempt waits this many seconds, doubled with each failure.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "applications:dashboard"
LOGOUT_REDIRECT_URL = "home"

# Internationalisation: Latvian first (no URL prefix), English under /en/.
LANGUAGE_CODE = "lv"
LANGUAGES = [("lv", _("Latvian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
FORMAT_MODULE_PATH = ["remigration_portal.formats"]
TIME_ZONE = "Europe/Riga"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Uploaded documents and issued letters live outside the static root and are served only
# through views that check permissions; MEDIA_URL is deliberately never routed.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"


# With S3_BUCKET set, every stored file (documents, letters, agreements, signed files, call
# regulations) goes to that bucket of an S3-compatible object store, so that any app server and
# any worker reads what another wrote. The bucket stays private: objects are written without a
# public ACL, and every download streams through a view that checks who is asking (the portal
# never hands out an address in the bucket). Names are never overwritten: a letter or an
# agreement, once issued, is the file its SHA-256 was taken of.
def object_storage(environ) -> dict:
    """The default storage: the bucket named by S3_BUCKET in ``environ``, or the local folder."""
    if not environ.get("S3_BUCKET"):
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": environ["S3_BUCKET"],
            "endpoint_url": environ.get("S3_ENDPOINT_URL") or None,
            "region_name": environ.get("S3_REGION") or None,
            "access_key": environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": environ.get("S3_PREFIX", ""),
            "default_acl": "private",
            "file_overwrite": False,
            # Addresses of objects are never given out; if one ever were, it would be signed
            # and last a minute.
            "querystring_auth": True,
            "querystring_expire": 60,
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }


STORAGES = {
    "default": object_storage(os.environ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The shared cache: Redis when REDIS_URL (or CACHE_URL) is set, so that every app server counts
# the same password reset requests and reads the same job progress; otherwise each process has
# its own memory.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
            "TIMEOUT": 300,
        }
    }
    # Sessions are written to the database, which every app server shares, and read through
    # the shared cache.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The task queue (remigration_portal/celery.py): with CELERY_BROKER_URL set (Redis), mail,
# letters and agreements in bulk and the hourly reminders run on Celery workers; without it
# every task runs in the process that asks for it, as it always did, so `make run` and
# `make test` need no service.
# Without a broker Celery is pointed at its in-memory transport, which nothing ever reads: no
# task can leave the process by mistake for a default address.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL.startswith("memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task is taken off the queue only once it has run, so a worker that dies mid-task leaves it
# for another; the tasks are written to be run again safely.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Riga"
# Redis hands a task that was not acknowledged within this many seconds to another worker:
# longer than the longest job (a whole call's letters).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 60 * 60}
CELERY_BEAT_SCHEDULE = {
    "send-reminders-hourly": {
        "task": "competitions.tasks.send_reminders",
        "schedule": 60 * 60,
    },
    "remove-old-job-files-hourly": {
        "task": "competitions.tasks.remove_old_job_files",
        "schedule": 60 * 60,
    },
}
# A mail the SMTP server refuses is tried again after MAIL_RETRY_BACKOFF seconds, then after
# twice as long each time (at most an hour between tries), MAIL_MAX_RETRIES times: about three
# hours with the defaults. Only then is it given up, and logged with its recipients.
MAIL_RETRY_BACKOFF = int(os.environ.get("MAIL_RETRY_BACKOFF", "60"))
MAIL_MAX_RETRIES = int(os.environ.get("MAIL_MAX_RETRIES", "8"))

# A call's export with more rows (planned activities) than this, per format, is not written
# within the request but by a background job, and downloaded from the job's page. Measured on
# a call of 10 000 applications (50 000 rows; bench/): the CSV, streamed as it is read, takes
# 6 to 15 s (the first bytes leave within a second), well within gunicorn's 30 s; the XLSX
# takes about a second for 1 000 rows, so only small ones are written while the user waits.
EXPORT_INLINE_MAX_ROWS = {
    "csv": int(os.environ.get("EXPORT_INLINE_MAX_CSV_ROWS", "60000")),
    "xlsx": int(os.environ.get("EXPORT_INLINE_MAX_XLSX_ROWS", "2000")),
}
# The files that background jobs write (exports) are removed this many days after the job ends.
JOB_FILE_DAYS = int(os.environ.get("JOB_FILE_DAYS", "7"))

# A past version in the admin's history is shown, never saved back (see VisibleOnlyMixin).
SIMPLE_HISTORY_REVERT_DISABLED = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: console by default so that nothing leaves a developer's machine.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "granti@vidzeme.lv")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in the portal's mail point here: by default the port `make run` serves on (PORT).
PORTAL_BASE_URL = (
    os.environ.get("PORTAL_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
)

# HTTPS and cookies. HTTPS_ONLY defaults to on whenever DEBUG is off; a deployment behind a
# TLS-terminating load balancer also sets SECURE_PROXY_SSL_HEADER=1.
HTTPS_ONLY = env_bool("DJANGO_HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancer's health checks may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy: the portal loads scripts, styles, fonts and images only from
# itself, and no page may be framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Logins, failed logins, lockouts and refusals: who, from where, when.
        "remigration_portal.security": {"level": "INFO"},
        # WeasyPrint reports every step of every PDF at INFO, and fontTools (which subsets
        # fonts where libharfbuzz-subset is missing) every table; warnings still come through.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run in the process: one line per mail sent would only be noise. (A worker logs
    # each task it runs, at the level its --loglevel gives.)
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
