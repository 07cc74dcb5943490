from django.core.management.base import BaseCommand

from alerts import services


class Command(BaseCommand):
    help = (
        "Deliver what the alerts owe now: crossings recorded by the ledger, and emails not sent "
        "yet (failed sends whose backoff has passed). Celery beat runs it every minute; "
        "without a broker, run it from cron."
    )

    def handle(self, *args, **options):
        sent = services.deliver_stock_alerts()
        self.stdout.write(f"{sent} alert email(s) sent.")
