"""Django settings. Every value comes from the environment, parsed strictly (see lib/env.py).

``SAMVERKAN_ENV=development`` (the default) generates missing keys once into the data folder;
``production`` refuses to start without them. ``DEBUG`` is off in both unless
``SAMVERKAN_DEBUG`` is set in development, because Django's debug page would show request data
— and with it personal data — to whoever triggers an error.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from samverkan.lib.context import parse_networks
from samverkan.lib.database import database_settings, replica_max_lag
from samverkan.lib.env import (
    KNOWN_DEFAULT_SECRETS,
    ConfigError,
    Env,
    development_secret,
    new_audit_key,
    new_encryption_keys,
    new_secret_key,
    parse_audit_key,
    parse_encryption_keys,
    parse_public_keys,
    parse_rate,
)

env = Env(os.environ)
PACKAGE_DIR = Path(__file__).resolve().parent

SAMVERKAN_ENV = env.get_choice("SAMVERKAN_ENV", ("development", "production"), "development")
PRODUCTION = SAMVERKAN_ENV == "production"
DATA_DIR = Path(env.get_str("SAMVERKAN_DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)


def _secret(name: str, filename: str, generate: str) -> str:
    value = env.raw(name)
    if value is not None and value.strip():
        value = value.strip()
        if PRODUCTION and value.lower() in KNOWN_DEFAULT_SECRETS:
            raise ConfigError(f"{name} is a known default value; set a real secret")
        return value
    if PRODUCTION:
        raise ConfigError(f"{name} (or {name}_FILE) must be set when SAMVERKAN_ENV=production")
    return development_secret(DATA_DIR, filename, generate)


SECRET_KEY = _secret("SAMVERKAN_SECRET_KEY", "secret_key", new_secret_key())
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ConfigError("SAMVERKAN_SECRET_KEY must be at least 50 characters")
AUDIT_KEY: bytes = parse_audit_key(
    "SAMVERKAN_AUDIT_KEY", _secret("SAMVERKAN_AUDIT_KEY", "audit_key", new_audit_key())
)
ENCRYPTION_KEYS: dict[str, bytes] = parse_encryption_keys(
    "SAMVERKAN_ENCRYPTION_KEYS",
    _secret("SAMVERKAN_ENCRYPTION_KEYS", "encryption_keys", new_encryption_keys()),
)
# The key of the keyed hash that makes identity numbers searchable without decrypting them.
# It is never rotated (every stored hash would have to be recomputed from the decrypted
# numbers); keep it with the other keys, apart from backups.
SEARCH_KEY: bytes = parse_audit_key(
    "SAMVERKAN_SEARCH_KEY", _secret("SAMVERKAN_SEARCH_KEY", "search_key", new_audit_key())
)

DEBUG = env.get_bool("SAMVERKAN_DEBUG", False)
if DEBUG and PRODUCTION:
    raise ConfigError("SAMVERKAN_DEBUG cannot be on when SAMVERKAN_ENV=production")

ALLOWED_HOSTS = env.get_list(
    "SAMVERKAN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError("SAMVERKAN_ALLOWED_HOSTS must be set when SAMVERKAN_ENV=production")
CSRF_TRUSTED_ORIGINS = env.get_list("SAMVERKAN_CSRF_TRUSTED_ORIGINS", [])
BASE_URL = env.get_str("SAMVERKAN_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")
if PRODUCTION and not BASE_URL.startswith("https://"):
    raise ConfigError("SAMVERKAN_BASE_URL must be the site's https:// address in production")

# How many reverse proxies stand in front of the application. With 1 (a TLS proxy), the
# client's address is the last one in X-Forwarded-For; with 0 it is the socket's peer.
# RequestContextMiddleware puts that one answer in REMOTE_ADDR, so the audit log, the lockout
# and allauth's rate limits all see the same address.
PROXY_COUNT = env.get_int("SAMVERKAN_PROXY_COUNT", 1 if PRODUCTION else 0, maximum=5)
# Or, instead of a count, the proxies by address: X-Forwarded-For is then read only from them,
# skipping each trusted hop, so a municipality's own outbound proxy can be trusted too and its
# workstations are told apart (lib/context.py). Takes precedence over the count when set.
try:
    TRUSTED_PROXIES = parse_networks(
        "SAMVERKAN_TRUSTED_PROXIES", env.get_list("SAMVERKAN_TRUSTED_PROXIES", [])
    )
except ValueError as exc:
    raise ConfigError(str(exc)) from None

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "samverkan.accounts",
    "samverkan.organisations",
    "samverkan.audit",
    "samverkan.api",
    "samverkan.web",
    "samverkan.cases",
    "samverkan.meetings",
    "samverkan.plans",
    "samverkan.indicators",
    "samverkan.promises",
    "samverkan.consent",
    "samverkan.portal",
    "samverkan.jobs",
    "samverkan.notifications",
    "samverkan.stats",
    "samverkan.records",
    "samverkan.synth",
]

MIDDLEWARE = [
    "samverkan.web.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "samverkan.web.middleware.SessionTimeoutMiddleware",
    "samverkan.web.middleware.MfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "samverkan.web.middleware.SecurityHeadersMiddleware",
    # Axes last, as its documentation asks: it turns lockout exceptions into responses.
    "axes.middleware.AxesMiddleware",
]

SILENCED_SYSTEM_CHECKS = ["axes.W006"]

ROOT_URLCONF = "samverkan.urls"
WSGI_APPLICATION = "samverkan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "samverkan.web.context_processors.navigation",
                "samverkan.web.context_processors.return_path",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL, an optional read replica for the statistics and the connection settings
# (age, health checks, server-side cursors, pooling): lib/database.py, docs/operations.md §14.
DATABASES = database_settings(env, DATA_DIR)
# Writes always go to the primary; only the statistics read on the replica (lib/replica.py).
DATABASE_ROUTERS = ["samverkan.lib.replica.PrimaryWritesRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = replica_max_lag(env)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds security state only: used one-time codes and limiter counters (DESIGN rule
# 21). It must be shared by every application process and must never evict a live entry, so it
# is either the database (lib/security_cache.py, the table of web/migrations/0001_cache_table.py)
# or, with SAMVERKAN_CACHE_URL, a Redis that never evicts (checked by `check --deploy`).
CACHE_URL = env.get_str("SAMVERKAN_CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ConfigError("SAMVERKAN_CACHE_URL must be a redis://, rediss:// or unix:// address")
CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env.get_str("SAMVERKAN_CACHE_PREFIX", "samverkan"),
            # A Redis that cannot be reached must refuse logins, not wave them through.
            "OPTIONS": {"IGNORE_EXCEPTIONS": False},
        }
        if CACHE_URL
        else {
            "BACKEND": "samverkan.lib.security_cache.SecurityStateCache",
            "LOCATION": "samverkan_cache",
        }
    )
}

# --- Background tasks -----------------------------------------------------------------------
# Tasks are rows in the application's database, run by `samverkan worker` (jobs/worker.py),
# which also enqueues the periodic jobs; any number of workers may share the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Each worker writes a heartbeat this often; a worker silent for the stale limit is taken for
# dead and its running task is queued again or failed (jobs/reaper.py). Several beats must fit
# in the limit, or a slow database would make live workers look dead.
WORKER_HEARTBEAT_SECONDS = env.get_int("SAMVERKAN_WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
WORKER_STALE_SECONDS = env.get_int(
    "SAMVERKAN_WORKER_STALE_SECONDS", 60, minimum=3 * WORKER_HEARTBEAT_SECONDS
)

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "samverkan.accounts.backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# ASVS 5.0 V6.2: length and a common-password check, no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.get_int("SAMVERKAN_PASSWORD_MIN_LENGTH", 12, minimum=8)},
    },
    {"NAME": "samverkan.accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"

ACCOUNT_ADAPTER = "samverkan.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.get_int("SAMVERKAN_REAUTH_SECONDS", 300, minimum=30)
# Password lockout per account is django-axes' job (below, 5 failures). allauth's limit is set
# above that so axes decides for passwords, while the same allauth limit still caps guessing of
# second-factor codes per account (10 per 15 minutes). It has no per-address part: a raw count
# per address let one noisy client behind a municipal NAT block every colleague's correct login.
# allauth's own limit on every login POST per address (30 a minute by default) would block an
# office the same way; it stays only as a flood guard far above what an office sends.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.get_str("SAMVERKAN_LOGIN_RATE_LIMIT", "10/15m/key"),
    "login": env.get_str("SAMVERKAN_LOGIN_FLOOD_LIMIT", "300/m/ip"),
}
# Per address, failed logins are counted over distinct accounts (accounts/adapters.py): one
# person mistyping counts once, a client spraying passwords over many accounts counts each.
try:
    LOGIN_ADDRESS_LIMIT = parse_rate(env.get_str("SAMVERKAN_LOGIN_ADDRESS_LIMIT", "20/15m"))
except ValueError as exc:
    raise ConfigError(f"SAMVERKAN_LOGIN_ADDRESS_LIMIT: {exc}") from None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Samverkan] "
MFA_ADAPTER = "samverkan.accounts.adapters.MfaAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Samverkan"
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_TRUST_ENABLED = False

AXES_ENABLED = env.get_bool("SAMVERKAN_LOCKOUT_ENABLED", True)
AXES_FAILURE_LIMIT = env.get_int("SAMVERKAN_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("SAMVERKAN_LOCKOUT_MINUTES", 15, minimum=1))
# Lock the account, not the address: many staff share one municipal NAT address, and locking it
# would let one mistyping colleague (or an attacker) lock out a whole office. allauth's login
# rate limit per IP address covers attempts that rotate over many accounts (axes.W006).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "samverkan.accounts.lockout.username_from_request"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "login", "username"]
if PRODUCTION and not AXES_ENABLED:
    raise ConfigError("SAMVERKAN_LOCKOUT_ENABLED cannot be off when SAMVERKAN_ENV=production")

# --- Sessions and cookies -------------------------------------------------------------------
SESSION_IDLE_TIMEOUT = env.get_int("SAMVERKAN_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_ABSOLUTE_TIMEOUT = env.get_int("SAMVERKAN_SESSION_MAX_HOURS", 10, minimum=1) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = PRODUCTION and env.get_bool("SAMVERKAN_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 63072000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
# The preload flag only marks the site as eligible; submitting the domain to browser preload
# lists is a separate, deliberate step for the municipality.
SECURE_HSTS_PRELOAD = PRODUCTION and env.get_bool("SAMVERKAN_HSTS_PRELOAD", True)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Stockholm"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# In development WhiteNoise serves straight from the apps' static folders, so the demo needs no
# collectstatic step; production serves the collected, hashed files.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = False

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.get_str(
    "SAMVERKAN_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.get_str("SAMVERKAN_EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("SAMVERKAN_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.get_str("SAMVERKAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env.raw("SAMVERKAN_EMAIL_PASSWORD") or ""
EMAIL_USE_TLS = env.get_bool("SAMVERKAN_EMAIL_TLS", PRODUCTION)
DEFAULT_FROM_EMAIL = env.get_str("SAMVERKAN_EMAIL_FROM", "Samverkan <noreply@samverkan.invalid>")

# --- API tokens -----------------------------------------------------------------------------
API_TOKEN_MAX_DAYS = env.get_int("SAMVERKAN_API_TOKEN_MAX_DAYS", 365, minimum=1)

# --- Consent ----------------------------------------------------------------------------------
# The longest a consent may run (DESIGN rule 3), the age from which the youth signs too (rule 2),
# how early coordinators are warned before it ends, and the largest scanned form accepted.
CONSENT_MAX_MONTHS = env.get_int("SAMVERKAN_CONSENT_MAX_MONTHS", 12, minimum=1, maximum=36)
CONSENT_YOUTH_SIGNS_FROM_AGE = env.get_int(
    "SAMVERKAN_CONSENT_YOUTH_SIGNS_FROM_AGE", 15, minimum=12, maximum=17
)
CONSENT_EXPIRY_WARNING_DAYS = env.get_int(
    "SAMVERKAN_CONSENT_EXPIRY_WARNING_DAYS", 30, minimum=1, maximum=120
)
CONSENT_EVIDENCE_MAX_BYTES = (
    env.get_int("SAMVERKAN_CONSENT_EVIDENCE_MAX_MB", 10, minimum=1, maximum=50) * 1024 * 1024
)
# Whether a signature staff record (paper or in person) counts only once a second, different
# staff member has confirmed it (docs/consent.md §2). Read whenever a consent's state is derived,
# so turning it on makes every unconfirmed staff-recorded signature stop counting at once.
CONSENT_SIGNATURE_CONFIRMATION = env.get_bool("SAMVERKAN_CONSENT_SIGNATURE_CONFIRMATION", False)
# Which statutory bases for disclosure without consent are offered (disclosure/statutory.py holds
# the list and what each allows); empty means every one.
STATUTORY_BASES = env.get_list("SAMVERKAN_STATUTORY_BASES", [])
# The e-ID provider for signing and portal login: "development" is a stand-in that must never
# run in production (docs/consent.md says what a BankID or Freja provider must do).
EID_PROVIDER = env.get_str("SAMVERKAN_EID_PROVIDER", "" if PRODUCTION else "development")
if PRODUCTION and EID_PROVIDER == "development":
    raise ConfigError("SAMVERKAN_EID_PROVIDER=development cannot be used in production")

# --- Statistics -----------------------------------------------------------------------------
# Counts of persons or cases from 1 to STATS_THRESHOLD − 1 are never shown (DESIGN rule 13).
# It cannot be set below 3 (issue 19): at 2 only ones would be hidden, and a one and a two are
# equally close to a person in a municipality of a few thousand young people.
STATS_THRESHOLD = env.get_int("SAMVERKAN_STATS_THRESHOLD", 5, minimum=3)
# A row or column of a breakdown (a sector, an age band, a gender) with fewer cases than this
# is a small group that may share one outcome: its cells are withheld, zeros included, however
# its cases are spread (stats/disclosure.py step 2). Never below STATS_THRESHOLD.
STATS_GROUP_THRESHOLD = env.get_int("SAMVERKAN_STATS_GROUP_THRESHOLD", 10, minimum=3)
# A median is shown only over at least this many values (and at least STATS_THRESHOLD): a median
# of a handful of values is one person's value or close to it. Cannot be set below 10.
STATS_MEDIAN_MINIMUM = env.get_int("SAMVERKAN_STATS_MEDIAN_MINIMUM", 10, minimum=10)

# --- Retention (gallring) -------------------------------------------------------------------
# How long records are kept (DESIGN rule 11; docs/operations.md "Retention"). A closed case's
# personal data goes this many years after closure (social services records: 5 years, SoL);
# the audit log is kept RETENTION_AUDIT_YEARS (at least 5, HSLF-FS 2016:40 4 kap. 9 §) and then
# pruned up to a signed anchor, its IP addresses truncated after RETENTION_AUDIT_IP_DAYS (DESIGN
# rule 19; docs/decisions.md D24).
# The short ones are days: notifications, portal login codes and e-ID orders no signature
# rests on. (Background-job history is pruned by the jobs app's own daily job, jobs.prune.)
RETENTION_CASE_YEARS = env.get_int("SAMVERKAN_RETENTION_CASE_YEARS", 5, minimum=1, maximum=50)
RETENTION_AUDIT_YEARS = env.get_int("SAMVERKAN_RETENTION_AUDIT_YEARS", 10, minimum=5)
RETENTION_AUDIT_IP_DAYS = env.get_int("SAMVERKAN_RETENTION_AUDIT_IP_DAYS", 180, minimum=1)
if RETENTION_AUDIT_IP_DAYS > RETENTION_AUDIT_YEARS * 365:
    raise ConfigError(
        "SAMVERKAN_RETENTION_AUDIT_IP_DAYS must not be longer than SAMVERKAN_RETENTION_AUDIT_YEARS"
        f" ({RETENTION_AUDIT_YEARS * 365} days); got {RETENTION_AUDIT_IP_DAYS}"
    )
# Off where the worker's database role may not delete audit events (docs/operations.md §3): run
# ``samverkan audit prune`` from cron under the role that may, instead.
AUDIT_PRUNE_IN_WORKER = env.get_bool("SAMVERKAN_AUDIT_PRUNE_IN_WORKER", True)
AUDIT_CHECKPOINT_DIR = Path(
    env.get_str("SAMVERKAN_AUDIT_CHECKPOINT_DIR", str(DATA_DIR / "audit-checkpoints"))
).resolve()
# Append, then seal (docs/decisions.md D28): on PostgreSQL writers append unsealed events and
# the worker's sealer chains them ("deferred"); "inline" makes each writer seal under the chain
# head's lock, as before (one writer at a time). SQLite always seals inline.
AUDIT_SEALING = env.get_choice("SAMVERKAN_AUDIT_SEALING", ("deferred", "inline"), "deferred")
AUDIT_SEAL_INTERVAL_MS = env.get_int("SAMVERKAN_AUDIT_SEAL_INTERVAL_MS", 500, minimum=50)
# Ed25519 key (hex seed of 32 bytes) that signs published checkpoints of the chain head; kept
# apart from SAMVERKAN_AUDIT_KEY, so that whoever holds the database and the HMAC key still
# cannot rewrite the log past a published checkpoint.
AUDIT_SIGNING_KEY: bytes = parse_audit_key(
    "SAMVERKAN_AUDIT_SIGNING_KEY",
    _secret("SAMVERKAN_AUDIT_SIGNING_KEY", "audit_signing_key", new_audit_key()),
)
if len(AUDIT_SIGNING_KEY) != 32:
    raise ConfigError("SAMVERKAN_AUDIT_SIGNING_KEY must be exactly 32 bytes (64 hex digits)")
if AUDIT_KEY[:32] == AUDIT_SIGNING_KEY:
    raise ConfigError("SAMVERKAN_AUDIT_SIGNING_KEY must differ from SAMVERKAN_AUDIT_KEY")
# Public keys (base64, as /audit/checkpoints.json shows them) of signing keys used before a
# rotation: checkpoints they signed still verify.
AUDIT_RETIRED_PUBLIC_KEYS: list[bytes] = parse_public_keys(
    "SAMVERKAN_AUDIT_RETIRED_PUBLIC_KEYS", env.get_list("SAMVERKAN_AUDIT_RETIRED_PUBLIC_KEYS", [])
)
RETENTION_NOTIFICATION_DAYS = env.get_int("SAMVERKAN_RETENTION_NOTIFICATION_DAYS", 180, minimum=1)
RETENTION_PORTAL_CODE_DAYS = env.get_int("SAMVERKAN_RETENTION_PORTAL_CODE_DAYS", 30, minimum=1)
RETENTION_EID_ORDER_DAYS = env.get_int("SAMVERKAN_RETENTION_EID_ORDER_DAYS", 30, minimum=1)
# Per record type of a closed case, in years after closure (docs/operations.md "Retention per
# record type" argues the defaults). Each goes on its own period; the case itself, with what no
# type names (plan, team, guardians, the youth), goes at RETENTION_CASE_YEARS, so no type may be
# kept longer than that.
RETENTION_JOURNAL_YEARS = env.get_int("SAMVERKAN_RETENTION_JOURNAL_YEARS", 5, minimum=1)
RETENTION_CONSENT_YEARS = env.get_int("SAMVERKAN_RETENTION_CONSENT_YEARS", 5, minimum=1)
RETENTION_CONCERN_YEARS = env.get_int("SAMVERKAN_RETENTION_CONCERN_YEARS", 5, minimum=1)
RETENTION_MEETING_YEARS = env.get_int("SAMVERKAN_RETENTION_MEETING_YEARS", 2, minimum=1)
for _name, _years in (
    ("JOURNAL", RETENTION_JOURNAL_YEARS),
    ("CONSENT", RETENTION_CONSENT_YEARS),
    ("CONCERN", RETENTION_CONCERN_YEARS),
    ("MEETING", RETENTION_MEETING_YEARS),
):
    if _years > RETENTION_CASE_YEARS:
        raise ConfigError(
            f"SAMVERKAN_RETENTION_{_name}_YEARS ({_years}) cannot be longer than "
            f"SAMVERKAN_RETENTION_CASE_YEARS ({RETENTION_CASE_YEARS}): the case holds its records"
        )
# An open case with no activity (entries, meetings, plan changes, consent events) for this many
# days is flagged to its group's coordinator, on the group's case index and once by e-mail.
CASE_DORMANT_DAYS = env.get_int("SAMVERKAN_CASE_DORMANT_DAYS", 180, minimum=14)

# --- Log review -----------------------------------------------------------------------------
# Log review (DESIGN rule 9): a user who touches more than LOG_REVIEW_DAILY_CASES distinct cases
# in one local day is flagged, and so is activity outside the working hours "HH-HH" (local time,
# start inclusive, end exclusive) or at a weekend. See records/review.py for every flag.
LOG_REVIEW_DAILY_CASES = env.get_int("SAMVERKAN_LOG_REVIEW_DAILY_CASES", 20, minimum=1)
_log_review_hours = env.get_str("SAMVERKAN_LOG_REVIEW_HOURS", "07-19")
try:
    LOG_REVIEW_HOURS = tuple(int(part, 10) for part in _log_review_hours.split("-"))
except ValueError:
    LOG_REVIEW_HOURS = ()
if len(LOG_REVIEW_HOURS) != 2 or not 0 <= LOG_REVIEW_HOURS[0] < LOG_REVIEW_HOURS[1] <= 24:
    raise ConfigError(
        f"SAMVERKAN_LOG_REVIEW_HOURS must look like 07-19 (start before end, 0-24); "
        f"got {_log_review_hours!r}"
    )

# --- Logging --------------------------------------------------------------------------------
# Plain records only: never request bodies or query strings, which could carry personal data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A failed task is logged by its error's type and place, never its message; every handler
    # masks identity numbers in whatever reaches it (lib/redact.py, docs/operations.md).
    "filters": {
        "withhold_exception_text": {"()": "samverkan.lib.redact.WithholdExceptionText"},
        "mask_identity_numbers": {"()": "samverkan.lib.redact.MaskIdentityNumbers"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_identity_numbers"],
        }
    },
    "root": {
        "handlers": ["console"],
        "level": env.get_choice(
            "SAMVERKAN_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "INFO"
        ),
    },
    "loggers": {
        # Django's request logger writes the full path of failing requests; keep it to warnings
        # from our own code instead.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # runserver's request lines (with query strings) through the masking handler, not
        # Django's own.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # WeasyPrint narrates every PDF step at INFO; only its problems belong in the log.
        "weasyprint": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "fontTools": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Background tasks log at the root's level, failures without their message.
        **{
            name: {
                "handlers": ["console"],
                "filters": ["withhold_exception_text"],
                "propagate": False,
            }
            for name in ("django_tasks", "django_tasks_db", "samverkan.jobs")
        },
    },
}
