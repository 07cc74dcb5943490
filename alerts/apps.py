from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        from alerts.receivers import enqueue_stock_alert_update
        from stock.signals import stock_changed

        stock_changed.connect(enqueue_stock_alert_update, dispatch_uid="alerts.stock_changed")
