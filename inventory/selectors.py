"""Reads of the catalogue shared by the API, reports and alerts."""

import datetime

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Upper

from inventory.models import LOW_STOCK, OUT_OF_STOCK, STOCK_KEEPING, Category, Product

__all__ = ["LOW_STOCK", "OUT_OF_STOCK", "STOCK_KEEPING"]  # the predicates, for every reader


def is_low_stock(product: Product) -> bool:
    """LOW_STOCK for one product in memory (a live, stock-keeping product at or below its
    threshold): the state whose changes the alerts hear about."""
    return (
        not product.is_archived
        and not product.has_variations
        and product.quantity - product.allocated <= product.low_stock_threshold
    )


# --- Expiry: the rule, stated once for products and their lots ---------------------------------


def expired_by(today: datetime.date, *, prefix: str = "") -> Q:
    """THE expiry rule: an expiry date that is today or past has expired (`prefix`: the way to
    the `expiration_date`, e.g. "lot__"; `today`: the organization's, core.dates.local_today)."""
    return Q(**{f"{prefix}expiration_date__isnull": False, f"{prefix}expiration_date__lte": today})


def has_expired(expiration_date: datetime.date | None, today: datetime.date) -> bool:
    """`expired_by` for one date in memory (FEFO skips expired lots)."""
    return expiration_date is not None and expiration_date <= today


def expiry_window(days: int, today: datetime.date, *, prefix: str = "") -> Q:
    """THE "expiring within `days` days" window: not expired yet, and at most `days` days
    after today."""
    return Q(
        **{
            f"{prefix}expiration_date__gt": today,
            f"{prefix}expiration_date__lte": today + datetime.timedelta(days=days),
        }
    )


def expired_condition(today: datetime.date) -> Q:
    """An expired product: stock on hand whose expiry has come (`expired_by`). A lot-tracked
    product's `expiration_date` is its earliest lot that holds stock, so this holds for it
    too."""
    return Q(has_variations=False, quantity__gt=0) & expired_by(today)


def stock_keeping_products(*, organization_id: int) -> QuerySet[Product]:
    """Products that hold stock: not archived, and not a product whose variations keep it."""
    return Product.objects.filter(STOCK_KEEPING, organization_id=organization_id)


def low_stock_products(*, organization_id: int) -> QuerySet[Product]:
    """Low stock means available (quantity - allocated) <= low_stock_threshold (stock-keeping
    products only)."""
    return stock_keeping_products(organization_id=organization_id).filter(LOW_STOCK)


def expired_products(*, organization_id: int, today: datetime.date):
    """The organization's expired products (`expired_condition`) by its `today`."""
    return stock_keeping_products(organization_id=organization_id).filter(expired_condition(today))


def most_urgent_low_stock(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Low-stock products, largest shortfall below the threshold first."""
    return (
        queryset.filter(LOW_STOCK)
        .annotate(shortfall=F("low_stock_threshold") - F("quantity") + F("allocated"))
        .order_by("-shortfall", "id")
    )


def most_urgent_expired(queryset: QuerySet[Product], *, today: datetime.date):
    """Expired products, oldest expiration date first."""
    return queryset.filter(expired_condition(today)).order_by("expiration_date", "id")


def categories_with_product_count(queryset: QuerySet[Category]) -> QuerySet[Category]:
    """Annotate each category's count of (non-archived) products with one subquery per row."""
    counts = (
        Product.objects.filter(category=OuterRef("pk"), is_archived=False)
        .order_by()
        .values("category")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(
        product_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
    )


def live_variations_exist():
    """An Exists() over a product's non-archived variations, for use in UPDATEs."""
    return Exists(Product.objects.filter(parent_id=OuterRef("pk"), is_archived=False))


# --- Search: the relevance rule, stated once -------------------------------------------------


def by_relevance(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """`?search=` without `ordering`: the most relevant first.

    1. an exact SKU or barcode (case-insensitive: a scanner's code);
    2. then names that start with the term;
    3. then the rest, the names closest to the term first (pg_trgm's `similarity`, on
       PostgreSQL; SQLite has none: by name);
    ties by name, then id (a total order, so pages never overlap)."""
    rank = Case(
        When(Q(sku__iexact=term) | Q(barcode__iexact=term), then=Value(0)),
        When(name__istartswith=term, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    products = products.annotate(search_rank=rank)
    if connections[products.db].vendor != "postgresql":
        return products.order_by("search_rank", "name", "id")
    products = products.annotate(
        search_similarity=TrigramSimilarity(Upper("name"), Value(term.upper()))
    )
    return products.order_by("search_rank", "-search_similarity", "name", "id")
