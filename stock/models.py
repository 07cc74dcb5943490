from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from core import numbering
from core.fields import cost_field


class Location(models.Model):
    """Where stock is kept: a shop floor, a back room, a warehouse. Exactly one location of an
    organization is its default (a partial unique constraint)."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20, null=True, blank=True)
    address = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="stock_location_name_ci_unique_per_org"
            ),
            models.UniqueConstraint(
                fields=["organization", "code"],
                condition=Q(code__isnull=False),
                name="stock_location_code_unique_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_default=True),
                name="stock_location_one_default_per_org",
            ),
        ]
        indexes = [models.Index(fields=["organization", "name", "id"])]

    def __str__(self):
        return self.name


class Lot(models.Model):
    """A batch of one lot-tracked product that arrived together and shares an expiry.
    `quantity` (on hand in every location) is kept by stock.services with its levels."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="lots"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(max_length=64)
    expiration_date = models.DateField(null=True, blank=True)
    quantity = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [F("expiration_date").asc(nulls_last=True), "id"]
        constraints = [
            models.UniqueConstraint("product", Lower("code"), name="stock_lot_code_ci_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_lot_quantity_gte_0"),
        ]
        indexes = [
            models.Index(fields=["organization", "expiration_date", "id"]),
            models.Index(fields=["product", "expiration_date", "id"]),
        ]

    def __str__(self):
        return self.code


class StockLevel(models.Model):
    """How much of a product (and lot) a location holds, and how much of it is promised to
    confirmed orders. Written only by stock.services, under the product's row lock."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="levels"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="levels")
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="levels"
    )
    quantity = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "location_id", "lot_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_level_quantity_gte_0"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0, allocated__lte=F("quantity")),
                name="stock_level_allocated_within_quantity",
            ),
            models.UniqueConstraint(
                fields=["product", "location"],
                condition=Q(lot__isnull=True),
                name="stock_level_unique_without_lot",
            ),
            models.UniqueConstraint(
                fields=["product", "location", "lot"],
                condition=Q(lot__isnull=False),
                name="stock_level_unique_per_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "location", "product"]),
            models.Index(fields=["organization", "product", "id"]),
        ]

    def __str__(self):
        return f"{self.product_id}@{self.location_id}/{self.lot_id}: {self.quantity}"

    @property
    def available(self) -> int:
        return self.quantity - self.allocated


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The stock ledger is append-only: movements cannot be updated.")

    def delete(self):
        raise TypeError("The stock ledger is append-only: movements cannot be deleted.")


class StockMovement(models.Model):
    """One line of the append-only stock ledger: sum(delta) == Product.quantity, always."""

    class MovementType(models.TextChoices):
        IN = "IN", "In"
        OUT = "OUT", "Out"
        ADJUST = "ADJUST", "Adjust"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        PURCHASE_ORDER = "purchase_order", "Purchase order"
        SALES_ORDER = "sales_order", "Sales order"
        PRODUCT_EDIT = "product_edit", "Product edit"
        INITIAL = "initial", "Initial stock"
        TRANSFER = "transfer", "Transfer"
        CUSTOMER_RETURN = "customer_return", "Customer return"
        SUPPLIER_RETURN = "supplier_return", "Supplier return"
        STOCKTAKE = "stocktake", "Stocktake"
        IMPORT = "import", "Import"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="stock_movements"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="movements"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    movement_type = models.CharField(max_length=6, choices=MovementType.choices)
    quantity = models.IntegerField()
    delta = models.IntegerField()
    balance_after = models.IntegerField()
    # What each unit cost: an IN's own cost, else the product's average cost at that moment.
    unit_cost = cost_field()
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    reference = models.CharField(max_length=50, null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="stock_movement_quantity_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stock_movement_balance_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(movement_type__in=["IN", "OUT"]) | Q(quantity__gt=0),
                name="stock_movement_in_out_quantity_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="stock_movement_unit_cost_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["organization", "product", "-created_at", "-id"]),
            models.Index(fields=["organization", "source", "-created_at", "-id"]),
            models.Index(fields=["organization", "movement_type", "-created_at", "-id"]),
            models.Index(fields=["organization", "location", "-created_at", "-id"]),
            # Units sold of a product at a location lately (replenishment's average daily
            # sales): the sales' movements only, their deltas read from the index.
            models.Index(
                fields=["organization", "product", "location", "created_at", "delta"],
                condition=Q(source="sales_order"),
                name="stock_movement_sales",
            ),
        ]

    def __str__(self):
        return f"{self.movement_type} {self.delta:+d} {self.product_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("The stock ledger is append-only: movements cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The stock ledger is append-only: movements cannot be deleted.")


class MovementLot(models.Model):
    """How one movement's delta falls on lots (ERPNext's batch bundle of a ledger entry):
    for every lot, the sum of its lines' deltas is its quantity."""

    movement = models.ForeignKey(StockMovement, on_delete=models.PROTECT, related_name="lot_lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="lines")
    delta = models.IntegerField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["lot", "movement"])]

    def __str__(self):
        return f"{self.lot_id} {self.delta:+d}"


class Transfer(models.Model):
    """Stock moved between two locations of the organization: an OUT at the source and an IN
    at the destination, in one transaction, numbered TR-00001 like orders."""

    REFERENCE_PREFIX = "TR"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="transfers"
    )
    number = models.PositiveIntegerField()
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    out_movement = models.OneToOneField(StockMovement, on_delete=models.PROTECT, related_name="+")
    in_movement = models.OneToOneField(StockMovement, on_delete=models.PROTECT, related_name="+")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="stock_transfer_number_unique_per_org"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_transfer_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="stock_transfer_two_locations"
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"])]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return numbering.reference(self.REFERENCE_PREFIX, self.number)
