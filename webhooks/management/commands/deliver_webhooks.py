from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = (
        "Deliver what the webhooks owe now: new events of the outbox, and retries whose delay "
        "is over. Celery beat runs the same sweep every minute; without a broker, run it from "
        "cron."
    )

    def handle(self, *args, **options):
        due = services.sweep()
        delivered = sum(services.deliver(delivery_id=pk) for pk in due)
        self.stdout.write(f"{delivered} of {len(due)} webhook deliveries delivered.")
