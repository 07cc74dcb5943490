from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """What purchase and sales orders share; it holds no table of its own."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
