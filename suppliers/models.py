from django.db import models

from core.fields import money_field


class Supplier(models.Model):
    """Who the organization buys from."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="suppliers"
    )
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="suppliers_supplier_name_unique_per_org",
                violation_error_message="A supplier with this name already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "name", "id"]),
            models.Index(fields=["organization", "created_at", "id"]),
        ]

    def __str__(self):
        return self.name


class SupplierProduct(models.Model):
    """What a supplier sells us of a product: in packs of `pack_size` units, at `unit_cost` a
    unit, delivered in `lead_time_days`, at least `minimum_order_quantity` units an order. At
    most one per product is the preferred one (a partial unique index says so too)."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="supplier_products"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="supplier_products"
    )
    supplier_sku = models.CharField(max_length=100, blank=True)
    pack_size = models.PositiveIntegerField(default=1)
    unit_cost = money_field()
    lead_time_days = models.PositiveIntegerField(default=0)
    minimum_order_quantity = models.PositiveIntegerField(default=0)
    is_preferred = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "supplier"],
                name="suppliers_supplier_product_unique",
                violation_error_message="This supplier already has a supplier product for it.",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(is_preferred=True),
                name="suppliers_one_preferred_per_product",
                violation_error_message="The product already has a preferred supplier product.",
            ),
            models.CheckConstraint(
                condition=models.Q(pack_size__gte=1), name="suppliers_pack_size_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_cost__gte=0), name="suppliers_unit_cost_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "product", "id"]),
            models.Index(fields=["organization", "supplier", "id"]),
        ]

    def __str__(self):
        return f"{self.supplier} – {self.product}"
