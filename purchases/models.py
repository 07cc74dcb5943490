from django.db import models
from django.db.models import F, Q

from core.fields import money_field
from orders.models import NumberedDocument, Order, OrderDocument, OrderLine


class PurchaseOrder(Order):
    """An order to a supplier; receipts add what arrives, reaching `received` adds whatever
    has not arrived yet, so every line is received once and never more."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409. `partially_received` is reached
    # by a receipt only; `closed` says the rest will not come.
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED, Status.RECEIVED, Status.CANCELLED},
        Status.SUBMITTED: {Status.RECEIVED, Status.CANCELLED},
        Status.PARTIALLY_RECEIVED: {Status.RECEIVED, Status.CLOSED},
        Status.RECEIVED: set(),
        Status.CLOSED: set(),
        Status.CANCELLED: set(),
    }
    RECEIVABLE = (Status.DRAFT, Status.SUBMITTED, Status.PARTIALLY_RECEIVED)
    # What is still to come on these counts as on order (API.md: drafts included).
    ON_ORDER = RECEIVABLE
    OPEN_STATUS = Status.DRAFT
    RESENDABLE = (Status.DRAFT, Status.SUBMITTED)
    REFERENCE_PREFIX = "PO"
    NOUN = "purchase order"

    supplier = models.ForeignKey(
        "suppliers.Supplier", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta(Order.Meta):
        indexes = [*Order.Meta.indexes, models.Index(fields=["organization", "supplier"])]


class PurchaseOrderItem(OrderLine):
    PRICE_FIELD = "unit_cost"

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="items")
    unit_cost = money_field()
    received_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta(OrderLine.Meta):
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchases_item_cost_gte_0"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")),
                name="purchases_item_never_over_received",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("received_quantity")),
                name="purchases_item_never_over_returned",
            ),
        ]
        indexes = [
            # On order (purchases.selectors.on_order): a product's lines still to come, read
            # without visiting the received ones, however long its history.
            models.Index(
                # the quantities as key columns: read from the index alone, on every database
                fields=["product", "order", "quantity", "received_quantity"],
                condition=Q(received_quantity__lt=F("quantity")),
                name="purchases_item_still_to_come",
            ),
        ]

    @property
    def remaining(self) -> int:
        return self.quantity - self.received_quantity


class Receipt(OrderDocument):
    """Goods of a purchase order that arrived: some lines, or parts of them, with their lots;
    one IN movement per line, in the transaction that stores it."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="receipts"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "purchase_order", "id"])]

    def __str__(self):
        return f"Receipt {self.pk} of {self.purchase_order}"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(PurchaseOrderItem, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    lot_code = models.CharField(max_length=64, blank=True)
    expiration_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchases_receipt_line_quantity_gt_0"
            ),
        ]

    def __str__(self):
        return f"{self.item.product} × {self.quantity}"


class SupplierReturn(NumberedDocument):
    """Goods sent back to the supplier of a purchase order (SR-00001): one OUT per line, of
    available stock only, never more than the line received less what went back before."""

    REFERENCE_PREFIX = "SR"

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="returns"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="purchases_return_number_unique_per_org"
            ),
        ]


class SupplierReturnLine(models.Model):
    supplier_return = models.ForeignKey(
        SupplierReturn, on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(PurchaseOrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    lot_code = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchases_return_line_quantity_gt_0"
            ),
        ]

    def __str__(self):
        return f"{self.item.product} × {self.quantity}"
