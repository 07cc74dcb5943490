import logging

from celery import shared_task

from stock.selectors import ledger_mismatch_batches

logger = logging.getLogger(__name__)


@shared_task
def reconcile_stock_ledger(batch_size: int = 10_000) -> list[dict]:
    """Check every product's quantity against its ledger; log and return the differences."""
    mismatches = []
    for _, _, rows in ledger_mismatch_batches(batch_size=batch_size):
        for row in rows:
            logger.error(
                "Stock ledger mismatch: product %s (%s, organization %s) has quantity %s, "
                "its movements sum to %s",
                row["id"],
                row["sku"],
                row["organization_id"],
                row["quantity"],
                row["ledger_quantity"],
            )
        mismatches.extend(rows)
    if not mismatches:
        logger.info("Stock ledger reconciled: every quantity equals its movements.")
    return mismatches
