from django.core.management.base import BaseCommand, CommandError

from alerts import services
from alerts.selectors import organizations_to_alert
from core.dates import local_today


class Command(BaseCommand):
    help = (
        "Run the daily low-stock check now, in this process: one email per organization with "
        "low-stock or expired products, to its managers (its admins when it has none). At most "
        "one per organization and UTC day, however often it runs (--force: send again)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="send even where today's digest went out"
        )

    def handle(self, *args, force=False, **options):
        today = local_today(None)  # every organization's (the UTC date for now)
        sent, failed = 0, []
        for organization_id in organizations_to_alert(today=today):
            log = services.send_low_stock_digest(
                organization_id=organization_id, today=today, force=force
            )
            if log is None:
                continue
            if log.sent_at is None:
                failed.append(organization_id)
                self.stderr.write(
                    f"Organization {organization_id}: sending failed; it is retried by "
                    "`manage.py deliver_stock_alerts` (or the worker's sweep)."
                )
                continue
            sent += 1
            self.stdout.write(
                f"Organization {organization_id}: {log.low_stock_count} low, "
                f"{log.expired_count} expired -> {', '.join(log.recipients)}"
            )
        self.stdout.write(f"{sent} low-stock email(s) sent for {today.isoformat()}.")
        if failed:
            raise CommandError(f"Sending failed for organization(s) {failed}.")
