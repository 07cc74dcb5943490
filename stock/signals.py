from django.dispatch import Signal

# The ledger's hook for other apps (alerts): sent after a transaction that wrote
# `LowStockEvent`s commits, with `organization_ids`. The events themselves are the durable
# trace; the signal only says "there is something to deliver now".
low_stock_changed = Signal()
