from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, IntegerField, Q, Value
from django.db.models.functions import Lower, Upper

from core.fields import cost_field, money_field

# The fields `?search=` reads, each with a trigram index of its organization's rows only.
SEARCH_FIELDS = ("name", "sku", "description", "barcode")


def name_trigrams() -> Func:
    """How many distinct trigrams the name has (pg_trgm's own count, `similarity`'s): a name of
    n trigrams is at most min(n, t) / max(n, t) similar to a term of t, whatever the term."""
    return Func(
        Func(Upper("name"), function="show_trgm"),
        Value(1),
        function="array_length",
        output_field=IntegerField(),
    )


def search_indexes() -> list[models.Index]:
    """`?search=`'s indexes (PostgreSQL only: migrations 0017 and 0018 build them there,
    concurrently).

    Django's `icontains` compiles to `UPPER(col::text) LIKE UPPER('%term%')`: a pg_trgm GIN
    index on exactly that expression finds the rows holding the term. With btree_gin the
    organization's id is a key of the same index, so PostgreSQL intersects the shop's entries
    with the term's trigrams inside the index (GIN's fast scan skips the trigram's posting tree
    past other shops' rows) instead of reading every shop's matches and then filtering them.
    The relevance order (inventory.selectors.by_relevance) has two B-trees of its own: names
    starting with the term (a range of UPPER(name)), and the names by trigram count, then name
    (the names that can be closest to a term are read first, each count in the rule's order).
    """
    matches = [
        GinIndex(
            F("organization"),
            OpClass(Upper(field), name="gin_trgm_ops"),
            name=f"inv_prod_org_{field}_trgm",
        )
        for field in SEARCH_FIELDS
    ]
    starting = models.Index(
        F("organization"),
        OpClass(Upper("name"), name="text_pattern_ops"),
        name="inv_prod_org_name_prefix",
    )
    closest = models.Index(
        F("organization"), name_trigrams(), F("name"), F("id"), name="inv_prod_org_name_trigrams"
    )
    return [*matches, starting, closest]


# The business predicates of a product, each stated once: the indexes below, the selectors,
# the filters, the reports and the alerts all use these (InvenTree's IN_STOCK_FILTER habit).
_LIVE_WITHOUT_VARIATIONS = {"is_archived": False, "has_variations": False}
# What is available (on hand less what confirmed orders reserve) at or below the threshold.
_AT_OR_BELOW_THRESHOLD = {"quantity__lte": F("low_stock_threshold") + F("allocated")}
# Holds stock: live, and not a product whose variations keep its stock.
STOCK_KEEPING = Q(**_LIVE_WITHOUT_VARIATIONS)
# Low stock: available at or below the threshold (a product with variations is low through them).
LOW_STOCK = Q(has_variations=False, **_AT_OR_BELOW_THRESHOLD)
LIVE_LOW_STOCK = Q(**_LIVE_WITHOUT_VARIATIONS, **_AT_OR_BELOW_THRESHOLD)
OUT_OF_STOCK = Q(has_variations=False, quantity=0)


class Category(models.Model):
    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="inventory_category_name_ci_unique_per_org",
                violation_error_message="A category with this name already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "name", "id"]),
            models.Index(fields=["organization", "created_at", "id"]),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    """A stock-keeping unit, or a product whose variations keep the stock.

    `quantity` is written only by `stock.services`, always together with a StockMovement.
    """

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="products"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="variations"
    )
    sku = models.CharField(max_length=64)
    # EAN/UPC or any code printed on the item: a scanner's exact lookup.
    barcode = models.CharField(max_length=64, null=True, blank=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
    )
    price = money_field()
    cost_price = money_field(null=True, blank=True)
    # Moving-average cost of the stock on hand (API.md, Valuation): kept by stock.services under
    # the product's lock with every IN that brings stock at a cost.
    average_cost = cost_field(default=Decimal(0))
    quantity = models.IntegerField(default=0)
    # Reserved by confirmed sales orders; `quantity - allocated` is what is available.
    allocated = models.IntegerField(default=0)
    low_stock_threshold = models.IntegerField(default=0)
    # Stock kept in lots (batches) with their own expiry; `expiration_date` is then the
    # earliest expiry among its lots that hold stock (kept by stock.services).
    track_lots = models.BooleanField(default=False)
    expiration_date = models.DateField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # True while the product has variations: it then keeps no stock of its own.
    has_variations = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    # When a completed stocktake last counted it (set by stock.services.apply_counted_differences).
    last_counted_at = models.DateTimeField(null=True, blank=True)
    # When it was archived: a parent's variations archived with it come back with it.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("view_costs", "Can see cost figures (costs, margins)")]
        constraints = [
            # `MILK-1L` and `milk-1l` cannot coexist (the index also serves `?sku=`).
            models.UniqueConstraint(
                "organization", Lower("sku"), name="inventory_product_sku_ci_unique_per_org"
            ),
            models.UniqueConstraint(
                "organization",
                Lower("barcode"),
                condition=Q(barcode__isnull=False),
                name="inventory_product_barcode_ci_unique_per_org",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="inventory_product_quantity_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0, allocated__lte=F("quantity")),
                name="inventory_product_allocated_within_quantity",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="inventory_product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(cost_price__isnull=True) | Q(cost_price__gte=0),
                name="inventory_product_cost_price_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(average_cost__gte=0), name="inventory_product_average_cost_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0),
                name="inventory_product_threshold_gte_0",
            ),
        ]
        indexes = [
            # The list's orderings, over live (non-archived) products, the only ones listed:
            # a deep page's ids come from an index-only scan (core.api.PageNumberPagination).
            *(
                models.Index(
                    fields=["organization", field, "id"],
                    condition=Q(is_archived=False),
                    name=f"inv_product_live_{field}",
                )
                for field in ("name", "sku", "price", "quantity", "created_at", "updated_at")
            ),
            # Filtered by category or supplier, in the default order (name) without a sort.
            *(
                models.Index(
                    fields=["organization", field, "name", "id"],
                    condition=Q(is_archived=False),
                    name=f"inv_product_live_{field}_name",
                )
                for field in ("category", "supplier")
            ),
            # A category's products by price (a shelf's cheapest or dearest first).
            models.Index(
                fields=["organization", "category", "price", "id"],
                condition=Q(is_archived=False),
                name="inv_product_live_cat_price",
            ),
            models.Index(fields=["organization", "parent", "id"]),
            models.Index(
                fields=["organization", "expiration_date"],
                condition=Q(expiration_date__isnull=False, is_archived=False),
                name="inventory_product_expiring",
            ),
            models.Index(
                fields=["organization", "id"],
                condition=LIVE_LOW_STOCK,
                name="inventory_product_low_stock",
            ),
            # The alerts' "largest shortfall first" reads the top of this index, no sort.
            models.Index(
                F("organization"),
                (F("low_stock_threshold") - F("quantity") + F("allocated")).desc(),
                F("id"),
                condition=LIVE_LOW_STOCK,
                name="inventory_product_shortfall",
            ),
            *search_indexes(),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"
