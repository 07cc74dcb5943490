from django.dispatch import Signal

# The catalogue's hook for other apps (alerts): sent inside the transaction that creates a
# product or variation (after its opening stock), with `product`. A product that starts at or
# below its threshold is low from the start: it has not crossed its threshold "from above".
product_created = Signal()
