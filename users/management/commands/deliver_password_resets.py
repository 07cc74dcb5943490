from django.core.management.base import BaseCommand

from users import tasks


class Command(BaseCommand):
    help = (
        "Send the password-reset emails waiting in the outbox (requested while the broker was "
        "unreachable, or whose send failed and whose backoff has passed). Celery beat runs it "
        "every minute; without a broker, run it from cron."
    )

    def handle(self, *args, **options):
        sent = tasks.deliver_password_resets()
        self.stdout.write(f"{sent} password-reset email(s) sent.")
