from django.core.management.base import BaseCommand, CommandError

from stock.selectors import ledger_mismatch_batches


def describe(row: dict) -> str:
    """One broken invariant, in the words of the ledger."""
    where = f"product {row['id']} {row['sku']} (organization {row['organization_id']})"
    if row["kind"] == "product":
        return (
            f"MISMATCH {where}: quantity {row['recorded']}, movements {row['ledger']}, "
            f"levels {row['levels']} (difference {row['recorded'] - row['ledger']:+d})"
        )
    if row["kind"] == "location":
        return (
            f"MISMATCH {where} at location {row['location_id']}: levels {row['levels']}, "
            f"movements there {row['ledger']}"
        )
    if row["kind"] == "allocated":
        return f"MISMATCH {where}: allocated {row['recorded']}, allocated in levels {row['levels']}"
    if row["kind"] == "reserved":
        return (
            f"MISMATCH {where} at location {row['location_id']} (lot {row['lot_id']}): "
            f"allocated {row['recorded']}, reservations {row['ledger']}"
        )
    return (
        f"MISMATCH lot {row['lot_id']} of {where}: quantity {row['recorded']}, "
        f"lot lines {row['ledger']}, levels {row['levels']}"
    )


class Command(BaseCommand):
    requires_system_checks = []  # a cron job: checking the project is not its business

    help = (
        "Check the stock ledger's invariants: every product's quantity equals the sum of "
        "its movements and of its levels; per product and location, the movements there equal "
        "the stock there; every lot's quantity equals its lot lines and its levels; what is "
        "allocated equals the levels' allocations and, per level, the reservations. Report each "
        "difference and exit with code 1 when there is any."
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
                self.stdout.write(describe(row))
            if verbosity >= 2 or (verbosity >= 1 and checked < last):
                self.stderr.write(f"checked product ids up to {checked} of {last}")
        if found:
            raise CommandError(f"{found} difference(s) from the stock ledger.", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                "Stock ledger OK: every quantity equals its movements and its levels, "
                "per product, location and lot; every allocation equals its reservations."
            )
        )
