"""Refuse to start with settings that cannot work: a secret key that anyone could know (API.md,
operations), an organization default that no organization may have."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_insecure_secret_key() -> None:
    """Called where a server or worker starts (wsgi, asgi, Celery): with DEBUG off, a missing,
    short or placeholder SECRET_KEY stops it with a message that says how to make one."""
    if error := getattr(settings, "SECRET_KEY_ERROR", None):
        raise ImproperlyConfigured(error)


@checks.register()
def secret_key_check(app_configs=None, **kwargs):
    """The same refusal for manage.py's commands that run the system checks (runserver,
    migrate, check): an error, not a deployment warning."""
    if error := getattr(settings, "SECRET_KEY_ERROR", None):
        return [checks.Error(error, id="stockroom.E001")]
    return []


@checks.register()
def organization_defaults_check(app_configs=None, **kwargs):
    """DEFAULT_TIME_ZONE and DEFAULT_CURRENCY must be what an organization may choose: an
    error (the server refuses to start), not a 500 at the first registration."""
    from core.currencies import is_currency
    from core.dates import is_known_time_zone

    defaults = [
        ("DEFAULT_TIME_ZONE", is_known_time_zone, "IANA time zone name (Europe/Paris, UTC)", 2),
        ("DEFAULT_CURRENCY", is_currency, "ISO 4217 currency code (EUR, USD, NZD)", 3),
    ]
    return [
        checks.Error(f"{name}={value!r} is no {what}.", id=f"stockroom.E00{number}")
        for name, known, what, number in defaults
        if not known(value := getattr(settings, name))
    ]
