"""Reads of the catalogue shared by the API, reports and alerts."""

import datetime
import functools
import time

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
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower, Upper

from inventory.models import (
    LOW_STOCK,
    OUT_OF_STOCK,
    STOCK_KEEPING,
    Category,
    Product,
    name_trigrams,
)

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


def name_similarity(term: str) -> TrigramSimilarity:
    """pg_trgm's `similarity(UPPER(name), TERM)`: the rule's "closest names first"."""
    return TrigramSimilarity(Upper("name"), Value(term.upper()))


def by_relevance(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """`?search=` without `ordering`: the most relevant first.

    1. an exact SKU or barcode (case-insensitive: a scanner's code);
    2. then names that start with the term;
    3. then the rest;
    within each, the names closest to the term first (pg_trgm's `similarity`, on PostgreSQL;
    SQLite has none: skipped), then by name, then id (a total order, so pages never overlap).
    A page of a large result is found tier by tier (`relevance_page_candidates`)."""
    rank = Case(
        When(_exact_code(term), then=Value(0)),
        When(name__istartswith=term, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    products = _with_codes(products).annotate(search_rank=rank)
    if connections[products.db].vendor != "postgresql":
        return products.order_by("search_rank", "name", "id")
    products = products.annotate(search_similarity=name_similarity(term))
    return products.order_by("search_rank", "-search_similarity", "name", "id")


# Up to this many matches, a page of `by_relevance` is one query that ranks them all (a few
# milliseconds); from there on, `relevance_page_candidates` reads only the closest names.
RANKED_WHOLE = 2_000
# Reading the closest names group by group gives up (and ranks every match instead) once this
# many trigram-count groups had to be ranked whole, none of their names as close as the group
# allows: a term whose matches are nearly all far from every name (e.g. a prefix of every SKU)
# would otherwise rank every group, and then some. The limit counts work, not time: a time
# limit gave up more often the busier the machine was, and ranking every match made it busier
# still (at 1,000,000 products, a common word's page fell back in one request of five under
# load: 15-20 requests a second instead of 47). A common word's page ranks 2-4 groups.
CLOSEST_RANKED_GROUPS = 8
# A safety net all the same (seconds): past it, every match is ranked.
CLOSEST_BUDGET = 1.0


def relevance_page_candidates(
    products: QuerySet[Product], *, term: str, organization_id: int, top: int, count: int
) -> list[int] | None:
    """Ids among which lie the first `top` rows of `by_relevance(products, term)` (so the page
    is those ids in that order, sliced), found without ranking every match: None (rank them
    all) up to RANKED_WHOLE matches, off PostgreSQL, for a term without trigrams, or past
    CLOSEST_RANKED_GROUPS (or CLOSEST_BUDGET). `products` is the organization's searched
    queryset (filters, `?search=`).

    Tier by tier (exact code, names starting with the term, the rest), each read only as far
    as the page needs, its closest names first (`_closest_first`)."""
    if count <= RANKED_WHOLE or connections[products.db].vendor != "postgresql":
        return None
    started = time.monotonic()
    with connections[products.db].cursor() as cursor:
        cursor.execute(TRIGRAM_GROUPS, [organization_id, organization_id, term.upper()])
        groups = [n for (n,) in cursor.fetchall()]
    term_trigrams = groups.pop(0)
    if not term_trigrams:
        return None
    exact, starts = _exact_code(term), Q(name__istartswith=term)
    products = _with_codes(products.order_by()).alias(name_trigrams=name_trigrams())
    products = products.annotate(search_similarity=name_similarity(term))
    closest = functools.partial(
        _closest_first,
        groups=groups,
        term_trigrams=term_trigrams,
        until=started + CLOSEST_BUDGET,
        ranked_groups=[0],  # shared by the tiers: the limit is the request's
    )
    codes = list(products.filter(exact).values_list("id", flat=True))  # 2 at most: unique
    if len(codes) >= top:
        return codes
    starting = products.filter(starts & ~exact)  # the (organization, UPPER(name)) prefix index
    firsts = list(starting.values_list("id", flat=True)[: RANKED_WHOLE + 1])
    if len(firsts) > RANKED_WHOLE:  # the page's share of them, or all of them if fewer
        firsts = closest(starting, need=top - len(codes))
    ranked = codes + firsts if firsts is not None else None
    if ranked is None or len(ranked) >= top:  # given up, or the page is in the first two tiers
        return ranked
    if count - len(ranked) <= RANKED_WHOLE:
        return None  # the rest is small too: rank it all
    rest = closest(products.filter(~starts & ~exact), need=top - len(ranked))
    return None if rest is None else ranked + rest


# The term's trigram count, then the organization's names' trigram counts, each once (a skip
# scan of the (organization, trigram count, name, id) index: one probe a count).
TRIGRAM_GROUPS = """
WITH RECURSIVE counts(n) AS (
    SELECT min(array_length(show_trgm(UPPER("name")), 1))
    FROM inventory_product WHERE organization_id = %s::bigint
  UNION ALL
    SELECT (
        SELECT min(array_length(show_trgm(UPPER("name")), 1))
        FROM inventory_product
        WHERE organization_id = %s::bigint
            AND array_length(show_trgm(UPPER("name")), 1) > counts.n
    )
    FROM counts WHERE counts.n IS NOT NULL
)
SELECT array_length(show_trgm(%s), 1)
UNION ALL (SELECT n FROM counts WHERE n IS NOT NULL)
"""


def _closest_first(
    tier: QuerySet[Product],
    *,
    groups: list[int],
    term_trigrams: int,
    need: int,
    until: float,
    ranked_groups: list[int],
) -> list[int] | None:
    """Ids holding the tier's first `need` rows (similarity, name, id), or all of it if it has
    fewer; None once more than CLOSEST_RANKED_GROUPS groups were ranked whole (counted in
    `ranked_groups[0]`, across the tiers) or past `until` (time.monotonic()).

    A name of n trigrams is at most f(n) = min(n, t) / max(n, t) similar to the term (t
    trigrams), exactly f(n) when one holds all of the other's. So the names are read group by
    group of n, in falling f(n): in a group, first those exactly f(n) similar, in the order of
    the (organization, n, name, id) index (they are the group's first rows), and the group's
    other matches ranked only if these are too few; once `need` rows read are more similar
    than the next group can be, no unread row can come before them. Names without trigrams (0
    similar) come last."""

    def bound(n):
        return min(n, term_trigrams) / max(n, term_trigrams)

    found: dict[int, float] = {}
    order = sorted(groups, key=lambda n: (-bound(n), n))
    for position, n in enumerate(order):
        closest = min(n, term_trigrams)
        whole = RawSQL("%s::real / %s::real", (closest, n + term_trigrams - closest))
        group = tier.filter(name_trigrams=n)
        rows = list(
            group.filter(search_similarity=whole)
            .order_by("name", "id")
            .values_list("id", "search_similarity")[:need]
        )
        if len(rows) < need:
            ranked_groups[0] += 1
            if ranked_groups[0] > CLOSEST_RANKED_GROUPS:
                return None
            rows = group.order_by("-search_similarity", "name", "id")
            rows = list(rows.values_list("id", "search_similarity")[:need])
        found.update(rows)
        following = bound(order[position + 1]) if position + 1 < len(order) else 0.0
        # (float4 similarities: a margin so that rounding cannot let an unread row tie)
        if sum(1 for close in found.values() if close > following + 1e-6) >= need:
            return list(found)
        if time.monotonic() > until:
            return None
    nameless = tier.filter(name_trigrams__isnull=True).order_by("name", "id")
    return [*found, *nameless.values_list("id", flat=True)[:need]]
