from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self):
        from core.events import events_committed, register_consumer
        from webhooks.receivers import dispatch_after_commit, send_after_commit
        from webhooks.services import CONSUMER
        from webhooks.signals import deliveries_ready

        events_committed.connect(dispatch_after_commit, dispatch_uid="webhooks.events_committed")
        deliveries_ready.connect(send_after_commit, dispatch_uid="webhooks.deliveries_ready")
        register_consumer(CONSUMER)
