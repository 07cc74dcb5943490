from django.apps import AppConfig


class ReplenishmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "replenishment"
