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

    errors = []
    if not is_known_time_zone(settings.DEFAULT_TIME_ZONE):
        errors.append(
            checks.Error(
                f"DEFAULT_TIME_ZONE={settings.DEFAULT_TIME_ZONE!r} is no IANA time zone name "
                "(e.g. Europe/Paris, America/New_York, UTC).",
                id="stockroom.E002",
            )
        )
    if not is_currency(settings.DEFAULT_CURRENCY):
        errors.append(
            checks.Error(
                f"DEFAULT_CURRENCY={settings.DEFAULT_CURRENCY!r} is no ISO 4217 currency code "
                "(e.g. EUR, USD, NZD).",
                id="stockroom.E003",
            )
        )
    return errors
