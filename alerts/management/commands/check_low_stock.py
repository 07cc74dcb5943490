from django.core.management.base import BaseCommand, CommandError

from alerts import services
from alerts.selectors import digests_due


class Command(BaseCommand):
    help = (
        "Send the daily low-stock digest now, in this process: one email per organization "
        "with low-stock, expired or soon-expiring products, to its managers (its admins when "
        "it has none), for every organization whose digest of its local day is still due, "
        "whatever the hour. At most one per organization and local day, however often it runs "
        "(--force: send again). --at-digest-hour sends only where the organization's local "
        "digest_hour has come, as beat does every hour: the cron line runs it hourly so."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="send even where today's digest went out"
        )
        parser.add_argument(
            "--at-digest-hour",
            action="store_true",
            help="only organizations whose local digest_hour has come (run hourly from cron)",
        )

    def handle(self, *args, force=False, at_digest_hour=False, **options):
        sent, failed = 0, []
        due = digests_due(at_digest_hour=at_digest_hour, again=force)
        self.stdout.write(f"{len(due)} organization(s) with a digest due.")
        for position, (organization_id, today) in enumerate(due, start=1):
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
                f"[{position}/{len(due)}] Organization {organization_id} ({today.isoformat()}): "
                f"{log.low_stock_count} low, {log.expired_count} expired -> "
                f"{', '.join(log.recipients)}"
            )
        self.stdout.write(f"{sent} low-stock email(s) sent.")
        if failed:
            raise CommandError(f"Sending failed for organization(s) {failed}.")
