"""Reads of the catalogue shared by the API, reports and alerts."""

import datetime

from django.contrib.postgres.search import TrigramDistance
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
from django.db.models.functions import Coalesce, Lower, Upper

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


def _exact_code(term: str) -> Q:
    """An exact SKU or barcode, case-insensitive (a scanner's code), as `?sku=` reads it: from
    the (organization, LOWER(code)) unique indexes."""
    code = term.lower()  # (the barcode is nullable: without a barcode, not an exact code)
    return Q(sku_lower=code) | Q(barcode__isnull=False, barcode_lower=code)


def _with_codes(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.alias(sku_lower=Lower("sku"), barcode_lower=Lower("barcode"))


def _name_distance(term: str) -> TrigramDistance:
    """pg_trgm's `UPPER(name) <-> TERM` (1 - similarity): the GiST index on the organization and
    the name yields a shop's rows nearest first (k-nearest), so the rule's order is this key."""
    return TrigramDistance(Upper("name"), Value(term.upper()))


def by_relevance(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """`?search=` without `ordering`: the most relevant first.

    1. an exact SKU or barcode (case-insensitive: a scanner's code);
    2. then names that start with the term;
    3. then the rest;
    within each, the names closest to the term first (pg_trgm's distance `<->`, 1 - similarity,
    on PostgreSQL; SQLite has none: skipped), then by name, then id (a total order, so pages
    never overlap). A page of a large result is read tier by tier (`relevance_page_ids`)."""
    rank = Case(
        When(_exact_code(term), then=Value(0)),
        When(name__istartswith=term, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    products = _with_codes(products).annotate(search_rank=rank)
    if connections[products.db].vendor != "postgresql":
        return products.order_by("search_rank", "name", "id")
    products = products.annotate(search_distance=_name_distance(term))
    return products.order_by("search_rank", "search_distance", "name", "id")


# Up to this many matches, a page of `by_relevance` is one query that ranks them all (a few
# milliseconds); from there on, `relevance_page_ids` reads each tier only as far as the page.
RANKED_WHOLE = 2_000


def relevance_page_ids(
    products: QuerySet[Product], *, term: str, bottom: int, top: int, count: int
) -> list[int] | None:
    """The ids of rows [bottom, top) of `by_relevance(products, term)`, in that order, read
    without ranking every match (PostgreSQL, more than RANKED_WHOLE matches; else None: the
    page is read as one query). `products` is the searched queryset (organization, filters,
    `?search=`).

    Each tier is read from an index that yields it in the rule's order, and only its first
    `top` rows (no later row of a tier can be on the page): the exact code by the unique
    (organization, LOWER(code)) indexes; names starting with the term, then names containing it,
    by the GiST (organization, UPPER(name)) trigram index, k-nearest (`<->`) with the LIKE as
    its index condition; the matches on other fields only (SKU, description, barcode) by their
    trigram indexes, ranked by the name's distance. One UNION ALL query merges them in the rule's
    order and keeps rows [bottom, top)."""
    if count <= RANKED_WHOLE or connections[products.db].vendor != "postgresql":
        return None
    exact, starts, in_name = _exact_code(term), Q(name__istartswith=term), Q(name__icontains=term)
    if " " in term:  # each word matches somewhere: the rest holds more than the other fields
        elsewhere = ~in_name
    else:  # one word: what does not hold it in the name holds it in another field
        elsewhere = ~in_name & (
            Q(sku__icontains=term) | Q(description__icontains=term) | Q(barcode__icontains=term)
        )
    products = _with_codes(products.order_by()).annotate(search_distance=_name_distance(term))
    tiers = [
        (0, Q(exact)),
        (1, starts & ~exact),
        (2, in_name & ~starts & ~exact),
        (2, elsewhere & ~exact),
    ]
    columns = ("id", "search_rank", "search_distance", "name")
    branches = [
        products.filter(condition)
        .annotate(search_rank=Value(rank, output_field=IntegerField()))
        .order_by("search_distance", "name", "id")
        .values_list(*columns)[:top]
        for rank, condition in tiers
    ]
    merged = branches[0].union(*branches[1:], all=True)
    merged = merged.order_by("search_rank", "search_distance", "name", "id")
    return [row[0] for row in merged[bottom:top]]
