import logging

from celery import shared_task

from stock.selectors import ledger_mismatch_batches

logger = logging.getLogger(__name__)


@shared_task
def reconcile_stock_ledger(batch_size: int = 10_000) -> list[dict]:
    """Check the ledger's three invariants (product, product × location, lot) every night; log
    every difference as an error and return them."""
    from stock.management.commands.check_stock_ledger import describe

    mismatches = []
    for _, _, rows in ledger_mismatch_batches(batch_size=batch_size):
        for row in rows:
            logger.error("Stock ledger: %s", describe(row))
        mismatches.extend(rows)
    if not mismatches:
        logger.info("Stock ledger reconciled: products, locations and lots agree with it.")
    return mismatches
