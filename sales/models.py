from django.db import models
from django.db.models import Q

from core.fields import money_field
from orders.models import Order, OrderLine


class SalesOrder(Order):
    """A customer's order; reaching `fulfilled` takes every line out of stock, or none."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409.
    TRANSITIONS = {
        Status.PENDING: {Status.FULFILLED, Status.CANCELLED},
        Status.FULFILLED: set(),
        Status.CANCELLED: set(),
    }
    OPEN_STATUS = Status.PENDING
    RESENDABLE = (Status.PENDING,)
    REFERENCE_PREFIX = "SO"
    NOUN = "sales order"

    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta(Order.Meta):
        indexes = [
            *Order.Meta.indexes,
            models.Index(
                fields=["organization", "fulfilled_at"],
                condition=Q(status="fulfilled"),
                name="sales_order_fulfilled",
            ),
        ]


class SalesOrderItem(OrderLine):
    PRICE_FIELD = "unit_price"

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="items")
    unit_price = money_field()

    class Meta(OrderLine.Meta):
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_item_price_gte_0"),
        ]
        indexes = [models.Index(fields=["product", "order"])]
