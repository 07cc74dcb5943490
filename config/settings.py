"""Stockroom settings: one module, read from the environment.

With nothing set it runs embedded (SQLite, eager Celery, console email) but in production
mode, so it refuses to start without SECRET_KEY; `make run` switches development mode on.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean from the environment, parsed explicitly (never `bool("False")`)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# --- Secret key -----------------------------------------------------------------------------
# It signs sessions, password-reset links and every JWT: a known key lets anyone sign a token
# for any user. With DEBUG off, the server, the workers and manage.py's commands refuse to start
# with a missing, short or placeholder key (core.checks.refuse_insecure_secret_key, called by
# config.wsgi, config.asgi and config.celery, and a system check for manage.py's commands);
# `manage.py help` still works.
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
SECRET_KEY_PLACEHOLDERS = {
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "secret-key",
    "secretkey",
    "your-secret-key",
    "django-secret-key",
}
SECRET_KEY_MIN_LENGTH = 50
GENERATE_SECRET_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign anything in production, or None when it may."""
    if not key:
        return "SECRET_KEY is not set"
    if key.lower() in SECRET_KEY_PLACEHOLDERS or key.startswith("django-insecure-"):
        return "SECRET_KEY is a placeholder that anyone can read"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < 5:
        return "SECRET_KEY has fewer than 5 different characters"
    return None


SECRET_KEY_ERROR = None
if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-never-use-in-production"
elif problem := secret_key_problem(SECRET_KEY):
    SECRET_KEY_ERROR = (
        f"{problem}. With DEBUG off, Stockroom refuses to start with it. Generate a key with "
        f"`{GENERATE_SECRET_KEY}` and set SECRET_KEY in the environment (or .env); "
        "for local development set DEBUG=true instead (`make run` does)."
    )
    # So that `manage.py help` and the like work with nothing set; nothing serves with it.
    SECRET_KEY = SECRET_KEY or secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Browser front ends on other origins (django-cors-headers): none unless listed, API only.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"

INSTALLED_APPS = [
    "users.apps.AdminConfig",  # django.contrib.admin with Stockroom's site (users.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # OpClass in index expressions (the trigram indexes), btree_gin; harmless on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "users",
    "inventory",
    "suppliers",
    "stock",
    "orders",
    "purchases",
    "sales",
    "stocktakes",
    "replenishment",
    "alerts",
    "reports",
    "webhooks",
    "imports",
]

MIDDLEWARE = [
    # Security headers first, so every response (redirects, static files, 413s) carries them.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before anything that answers (413s included): a preflight needs no credentials.
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.ApiErrorMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Read-your-writes with a read replica: a user who wrote reads the primary for a while.
    "core.middleware.ReadYourWritesMiddleware",
    # The audit trail reads who did a change from the request (DRF sets its user on it).
    "core.audit.AuditUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# When PostgreSQL is down, requests answer a JSON 503: at once once a connection attempt found
# it unreachable (a circuit breaker per process, open DATABASE_BREAKER_SECONDS: core.pooling),
# else within DATABASE_POOL_TIMEOUT (or the connect timeout). Pooled connections are checked
# before use, so the first requests after a restart succeed (dead ones are replaced).
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
# After a connection attempt found PostgreSQL unreachable, fail at once for this many seconds
# (then one request tries again).
DATABASE_BREAKER_SECONDS = env_int("DATABASE_BREAKER_SECONDS", 2)
# DATABASE_URL points at PgBouncer in transaction pooling mode (docs/scaling.md).
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)
if DATABASE_URL:
    DATABASES = {
        # Health checks: the pool checks each connection before handing it out.
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, whose pool replaces every dead connection at once after a restart.
        DATABASES["default"]["ENGINE"] = "core.postgresql"
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
        # No JIT: compiling a large report query cost more (0.4 s on the 1M-product bench) than
        # running it; short web queries never gain from it.
        options.setdefault("options", "-c jit=off")
        if DATABASE_PGBOUNCER:
            # PgBouncer in transaction mode hands each transaction any server connection: no
            # prepared statement, no session setting and no cursor outlives it. So: parameters
            # bound by the client, nothing prepared, no pool of our own (PgBouncer pools), no
            # server-side cursors (`iterator()` fetches in chunks client-side), and no
            # `options` startup parameter (PgBouncer refuses it: set `jit = off` on the
            # database instead, `ALTER DATABASE ... SET jit = off`; docs/scaling.md).
            options.pop("options", None)
            options["server_side_binding"] = False
            options["prepare_threshold"] = None
            DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
            # A connection to PgBouncer costs it nothing to keep: kept for a minute.
            DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        else:
            # Parameters bound by the server: psycopg then prepares the queries a connection
            # runs again and again (a list page's count and rows), and PostgreSQL plans them once.
            options.setdefault("server_side_binding", True)
        if env_bool("DATABASE_POOL", True) and not DATABASE_PGBOUNCER:
            # Django's built-in psycopg 3 pool (CONN_MAX_AGE must stay 0 with it).
            options["pool"] = {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 3),
                # A failed connection is retried with backoff for at most 5 s; meanwhile the
                # breaker (core.pooling) answers at once, and its trial starts a fresh pool.
                "reconnect_timeout": 5,
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# --- Read replica (core.db.ReplicaRouter; docs/scaling.md) --------------------------------
# A PostgreSQL streaming replica for the heavy reads (reports, dashboard figures, exports, the
# product, level, ledger, order and return lists). A user who changed anything in the last
# REPLICA_STICKY_SECONDS reads from the primary (the mark is kept in the shared cache); a
# replica more than REPLICA_MAX_LAG_SECONDS behind, or unreachable within
# REPLICA_CONNECT_TIMEOUT seconds, is left alone: reads go to the primary. Its lag is measured
# at most once every REPLICA_CHECK_SECONDS per process.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
REPLICA_STICKY_SECONDS = env_int("REPLICA_STICKY_SECONDS", 10)
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 30)
REPLICA_CONNECT_TIMEOUT = env_int("REPLICA_CONNECT_TIMEOUT", 1)
REPLICA_CHECK_SECONDS = 1.0
# The alias the router sends heavy reads to (None: no replica, every read on the primary).
REPLICA_DATABASE = None
if DATABASE_REPLICA_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary).")
    REPLICA_DATABASE = "replica"
    replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
    # Django's own backend: the replica being down must not open the primary's breaker.
    replica["OPTIONS"] = {
        "connect_timeout": REPLICA_CONNECT_TIMEOUT,
        "options": "-c jit=off",
        # Client-side binding: the replica may be reached through PgBouncer too.
        "server_side_binding": False,
        "prepare_threshold": None,
    }
    replica["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Tests: the replica alias is the test database itself (no second test database).
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
DATABASE_ROUTERS = ["core.db.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Cache, Celery --------------------------------------------------------------------------
# `migrate` makes the database cache's table whatever the configuration (core migration 0001).
DATABASE_CACHE_TABLE = "stockroom_cache"
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Answers from this process's memory while Redis is unreachable (logged), never a 500.
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "stockroom",
        }
    }
else:
    # Shared by every process on the same database, so login throttling holds across workers.
    CACHES = {"default": {"BACKEND": "core.cache.DatabaseCache", "LOCATION": DATABASE_CACHE_TABLE}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a task after its commit must not hang on a broker that is down: fail
# fast, log, and let the periodic sweep of the alerts outbox catch up (nothing is lost).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# No reconnection loop when publishing (kombu's default tried for 2 s against a refused port):
# a publish that fails is given up at once (core.broker), and the sweep does the work later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
}
CELERY_TASK_PUBLISH_RETRY = False

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A DRF token expires this many days after it was issued (then 401, and it is deleted).
AUTH_TOKEN_DAYS = env_int("AUTH_TOKEN_DAYS", 30)
# A password-reset link is valid this many seconds (Django's token generator).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)
# At most this many reset requests per address (known or not) in this many seconds are
# written (and emailed); more are answered 202 all the same and send nothing.
PASSWORD_RESET_MAX_PER_ADDRESS = env_int("PASSWORD_RESET_MAX_PER_ADDRESS", 3)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
# Optional: a front end's page for the reset email's link, e.g.
# https://shop.example.com/reset-password?uid={uid}&token={token}
PASSWORD_RESET_URL = os.environ.get("PASSWORD_RESET_URL", "").strip()

LOGIN_THROTTLE_FAILURES = env_int("LOGIN_THROTTLE_FAILURES", 5)
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its WWW-Authenticate header makes missing credentials a 401.
        "users.authentication.CachedJWTAuthentication",
        "users.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.FilterBackend",
        "core.api.SearchFilter",
        "core.api.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "100/minute"),
        "user": os.environ.get("THROTTLE_USER", "2000/minute"),
    },
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Proxies in front of the server whose X-Forwarded-For is trusted for the client address
    # (throttling). 0: the connecting address, so a client cannot pick its own.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": env_bool("JWT_ROTATE_REFRESH_TOKENS", True),
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Every JWT carries a digest of the password hash it was issued under ("hash_password");
    # a token whose digest is not the user's current one is refused on every request, refresh
    # and verify (users.authentication.issued_under_current_password): a new password ends
    # every session however a refresh races it, without waiting for a blacklist.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stockroom API",
    "DESCRIPTION": (
        "Multi-tenant inventory and sales backend. The reference with examples is "
        "`docs/api.md` in the repository.\n\n"
        "**Authenticate**: `POST /api/login/` with your `username` and `password` answers an "
        "`access` JWT (15 minutes), a `refresh` token and a DRF `token`. Requests send "
        "`Authorization: Bearer <access>` or `Authorization: Token <token>`. Here, click "
        "**Authorize**: paste the `access` value under *jwtAuth* (the page adds `Bearer `), or "
        "`Token <token>` under *tokenAuth*. `POST /api/token/refresh/` with the `refresh` token "
        "gives a new `access`.\n\n"
        'Errors: a 400 is `{"field": ["message"]}`, every other error `{"detail": ...}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.require_response_fields",
        "core.schema.non_negative_money",
        "core.schema.valid_examples",
        "core.schema.document_error_responses",
    ],
    # Choice sets whose field name another model uses too (an alert's `kind`).
    "ENUM_NAME_OVERRIDES": {"ImportKindEnum": "imports.models.ImportJob.Kind"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Requests -------------------------------------------------------------------------------
# Bodies over 2.5 MB are refused with 413 before any parser reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
REQUEST_BODY_MAX_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Imports (API.md, Imports) --------------------------------------------------------------
# A spreadsheet upload may be larger than every other body (413 over it): these paths only.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
REQUEST_BODY_LIMITS = {"/api/imports/": IMPORT_MAX_BYTES, "/admin/imports/": IMPORT_MAX_BYTES}
# More data rows than this is a 400; more than IMPORT_SYNC_ROWS run in the background (202).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 100_000)
IMPORT_SYNC_ROWS = env_int("IMPORT_SYNC_ROWS", 2_000)
# Zip bombs: an .xlsx whose parts unpack to more than this, or whose sheet holds more cells
# than this, is refused before (or while) it is read.
IMPORT_XLSX_MAX_UNCOMPRESSED = env_int("IMPORT_XLSX_MAX_UNCOMPRESSED", 256 * 1024 * 1024)
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 5_000_000)
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32)

# --- Email ----------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "").strip() or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587 if EMAIL_HOST else 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST))
# An SMTP server that never answers holds a worker at most this long (and never a lock).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Stockroom <stockroom@localhost>")
# Low-stock emails list every low or expired product; a positive number caps each section.
ALERT_EMAIL_MAX_ROWS = env_int("ALERT_EMAIL_MAX_ROWS", 0)
# Stock "expiring soon" expires within this many days (alerts, digest).
ALERT_EXPIRY_DAYS = env_int("ALERT_EXPIRY_DAYS", 7)

# --- Organizations --------------------------------------------------------------------------
# What a new organization starts with (each changes its own: GET/PATCH /api/organization/):
# an IANA time zone (its "today", its date ranges and report periods) and an ISO 4217 currency.
# Checked when the server starts (core.checks).
DEFAULT_TIME_ZONE = os.environ.get("DEFAULT_TIME_ZONE", "").strip() or "UTC"
DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "").strip() or "USD"

# --- Webhooks -------------------------------------------------------------------------------
# Receivers on the internal network (an on-premises setup): private addresses and http:// too.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# Seconds a receiver has to answer a delivery (connection and answer together).
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
# Days the outbox's events and the webhooks' finished deliveries are kept (a nightly job
# deletes older ones: events only once every consumer has applied them); 0 keeps them all.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 30)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders too, so the docs work without collectstatic.
WHITENOISE_USE_FINDERS = True

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
