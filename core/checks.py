"""Refuse to run in production with a secret key that anyone could know (API.md, operations)."""

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
