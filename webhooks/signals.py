from django.dispatch import Signal

# Sent after a commit that made deliveries to send now (a ping, a redelivery), with
# `delivery_ids`: webhooks.receivers queues them.
deliveries_ready = Signal()
