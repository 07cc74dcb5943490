from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The machinery every app shares; it imports no app of ours."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self):
        from core import checks  # noqa: F401  (registers the secret-key check)
