from django.db import models
from django.db.models import Q

from core.fields import money_field
from orders.models import Order, OrderLine


class PurchaseOrder(Order):
    """An order to a supplier; reaching `received` adds its lines to stock once."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409.
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED, Status.RECEIVED, Status.CANCELLED},
        Status.SUBMITTED: {Status.RECEIVED, Status.CANCELLED},
        Status.RECEIVED: set(),
        Status.CANCELLED: set(),
    }
    OPEN_STATUS = Status.DRAFT
    RESENDABLE = (Status.DRAFT, Status.SUBMITTED)
    REFERENCE_PREFIX = "PO"
    NOUN = "purchase order"

    supplier = models.ForeignKey(
        "suppliers.Supplier", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta(Order.Meta):
        indexes = [*Order.Meta.indexes, models.Index(fields=["organization", "supplier"])]


class PurchaseOrderItem(OrderLine):
    PRICE_FIELD = "unit_cost"

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="items")
    unit_cost = money_field()

    class Meta(OrderLine.Meta):
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchases_item_cost_gte_0"),
        ]
