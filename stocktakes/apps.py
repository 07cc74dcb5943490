from django.apps import AppConfig


class StocktakesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stocktakes"
