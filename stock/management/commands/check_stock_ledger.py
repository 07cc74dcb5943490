from django.core.management.base import BaseCommand, CommandError

from stock.selectors import ledger_mismatch_batches


class Command(BaseCommand):
    requires_system_checks = []  # a cron job: checking the project is not its business

    help = (
        "Check that every product's quantity equals the sum of its stock movements; "
        "report each difference and exit with code 1 when there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, help="check one organization only")
        parser.add_argument(
            "--batch-size", type=int, default=10_000, help="product ids per query (10000)"
        )

    def handle(self, *args, organization=None, batch_size=10_000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verbosity = options.get("verbosity", 1)
        found = 0
        for checked, last, rows in ledger_mismatch_batches(
            organization_id=organization, batch_size=batch_size
        ):
            for row in rows:
                found += 1
                self.stdout.write(
                    f"MISMATCH product {row['id']} {row['sku']} (organization "
                    f"{row['organization_id']}): quantity {row['quantity']}, ledger "
                    f"{row['ledger_quantity']}, difference "
                    f"{row['quantity'] - row['ledger_quantity']:+d}"
                )
            if verbosity >= 2 or (verbosity >= 1 and checked < last):
                self.stderr.write(f"checked product ids up to {checked} of {last}")
        if found:
            raise CommandError(f"{found} product(s) differ from their stock ledger.", returncode=1)
        self.stdout.write(
            self.style.SUCCESS("Stock ledger OK: every quantity equals its movements.")
        )
