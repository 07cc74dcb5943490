from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        from alerts.receivers import deliver_after_commit
        from alerts.services import CONSUMER
        from core.events import events_committed, register_consumer

        events_committed.connect(deliver_after_commit, dispatch_uid="alerts.events_committed")
        register_consumer(CONSUMER)
