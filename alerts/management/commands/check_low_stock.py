from django.core.management.base import BaseCommand, CommandError

from alerts import services
from alerts.selectors import organizations_to_alert
from inventory.selectors import utc_today


class Command(BaseCommand):
    help = (
        "Run the daily low-stock check now, in this process: one email per organization with "
        "low-stock or expired products, to its managers (its admins when it has none)."
    )

    def handle(self, *args, **options):
        today = utc_today()
        sent, failed = 0, []
        for organization_id in organizations_to_alert(today=today):
            try:
                log = services.send_low_stock_digest(organization_id=organization_id, today=today)
            except Exception as exc:  # one organization's mail server must not stop the others
                failed.append(organization_id)
                self.stderr.write(f"Organization {organization_id}: sending failed: {exc}")
                continue
            if log is not None:
                sent += 1
                self.stdout.write(
                    f"Organization {organization_id}: {log.low_stock_count} low, "
                    f"{log.expired_count} expired -> {', '.join(log.recipients)}"
                )
        self.stdout.write(f"{sent} low-stock email(s) sent for {today.isoformat()}.")
        if failed:
            raise CommandError(f"Sending failed for organization(s) {failed}; run it again.")
