from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        from alerts.receivers import enqueue_stock_alert_update, record_known_low_product
        from inventory.signals import product_created
        from stock.signals import stock_changed

        stock_changed.connect(enqueue_stock_alert_update, dispatch_uid="alerts.stock_changed")
        product_created.connect(record_known_low_product, dispatch_uid="alerts.product_created")
