from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self):
        from core.events import events_committed
        from webhooks.receivers import dispatch_after_commit

        events_committed.connect(dispatch_after_commit, dispatch_uid="webhooks.events_committed")
