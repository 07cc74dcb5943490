from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        from alerts.receivers import deliver_after_commit
        from stock.signals import low_stock_changed

        low_stock_changed.connect(deliver_after_commit, dispatch_uid="alerts.low_stock_changed")
