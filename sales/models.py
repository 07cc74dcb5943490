from django.db import models
from django.db.models import F, Q

from core.fields import cost_field, money_field
from orders.models import NumberedDocument, Order, OrderLine


class SalesOrder(Order):
    """A customer's order; reaching `confirmed` reserves every line's stock, `fulfilled` takes
    it out (the reservations, or straight from what is available), or nothing at all."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409.
    TRANSITIONS = {
        Status.PENDING: {Status.CONFIRMED, Status.FULFILLED, Status.CANCELLED},
        Status.CONFIRMED: {Status.FULFILLED, Status.CANCELLED},
        Status.FULFILLED: set(),
        Status.CANCELLED: set(),
    }
    OPEN_STATUS = Status.PENDING
    RESENDABLE = (Status.PENDING, Status.CONFIRMED)
    REFERENCE_PREFIX = "SO"
    NOUN = "sales order"

    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    confirmed_at = models.DateTimeField(null=True, blank=True)
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
    returned_quantity = models.PositiveIntegerField(default=0)
    # Set at fulfilment: the average cost the OUT took the units at, and the line's cost of
    # goods sold (quantity * unit_cost, 2 places). Null until then.
    unit_cost = cost_field(null=True, blank=True)
    line_cost = money_field(total=True, null=True, blank=True)

    class Meta(OrderLine.Meta):
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_item_price_gte_0"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")),
                name="sales_item_never_over_returned",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0, line_cost__gte=0),
                name="sales_item_cost_gte_0",
            ),
        ]
        indexes = [models.Index(fields=["product", "order"])]


class Reservation(models.Model):
    """Units of a stock level promised to a confirmed order's line (Saleor's `Allocation`):
    fulfilment takes exactly these, cancelling releases exactly these, and the rows go with
    them. Per level, the reservations add up to its `allocated` (check_stock_ledger)."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(SalesOrderItem, on_delete=models.CASCADE, related_name="reservations")
    level = models.ForeignKey(
        "stock.StockLevel", on_delete=models.PROTECT, related_name="reservations"
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sales_reservation_quantity_gt_0"
            ),
            models.UniqueConstraint(fields=["item", "level"], name="sales_reservation_unique"),
        ]

    def __str__(self):
        return f"{self.quantity} of level {self.level_id} for line {self.item_id}"


class CustomerReturn(NumberedDocument):
    """Goods a customer brought back from a fulfilled order (CR-00001): restocked, one IN per
    line back to the lots the sale took, or not (damaged goods: nothing moves)."""

    REFERENCE_PREFIX = "CR"

    sales_order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="returns")
    restock = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="sales_return_number_unique_per_org"
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"])]


class CustomerReturnLine(models.Model):
    customer_return = models.ForeignKey(
        CustomerReturn, on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(SalesOrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = money_field()
    # The cost the sale recorded for these units (its line's unit_cost), and quantity *
    # unit_cost (2 places): restocked, their cost of goods is undone (API.md, Reports).
    unit_cost = cost_field(null=True, blank=True)
    line_cost = money_field(total=True, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sales_return_line_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0, line_cost__gte=0),
                name="sales_return_line_cost_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.item.product} × {self.quantity}"
