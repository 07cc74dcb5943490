from django.dispatch import Signal

# The ledger's hook for other apps (alerts): sent after the transaction that changed stock
# commits, with `organization_id` and `product_ids` (the products whose quantity changed).
stock_changed = Signal()
