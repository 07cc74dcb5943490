from django.apps import AppConfig


class StockConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stock"

    def ready(self):
        from django.db.models.signals import post_save

        from stock.receivers import make_default_location
        from users.models import Organization

        post_save.connect(make_default_location, sender=Organization, dispatch_uid="stock.main")
