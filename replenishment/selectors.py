"""What is due to be ordered, computed by the database (API.md, Replenishment).

A rule is due when, at its location, `available + on_order <= min_quantity` (on order: open
purchase orders delivering there, drafts included) and it is not snoozed (`snoozed_until`
before today). Each rule reads its product's levels at its location (the levels' index on
organization, location, product) and the lines still to come (the partial index
`purchases_item_still_to_come`): two index lookups a rule, no aggregate over the whole
catalogue. Average daily sales come from the ledger's sales movements (the partial index
`stock_movement_sales`), for the due rules only.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import (
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from purchases.selectors import on_order_by_location
from replenishment.models import ReorderRule
from stock.models import StockLevel, StockMovement

SALES_DAYS = 90  # average daily sales: units sold from the location over this many days


def _integer(subquery) -> Coalesce:
    return Coalesce(
        Subquery(subquery, output_field=IntegerField()), Value(0), output_field=IntegerField()
    )


def available_at_location() -> Coalesce:
    """The rule's product's available units (on hand less reserved) at the rule's location,
    every lot together."""
    levels = (
        StockLevel.objects.filter(
            organization_id=OuterRef("organization_id"),
            location_id=OuterRef("location_id"),
            product_id=OuterRef("product_id"),
        )
        .order_by()
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("allocated")))
        .values("units")
    )
    return _integer(levels)


def sold_at_location(*, since: datetime.datetime) -> Coalesce:
    """Units of the rule's product that sales orders took from the rule's location since
    `since` (their OUT movements' deltas, negated)."""
    sales = (
        StockMovement.objects.filter(
            organization_id=OuterRef("organization_id"),
            product_id=OuterRef("product_id"),
            location_id=OuterRef("location_id"),
            source=StockMovement.Source.SALES_ORDER,
            created_at__gte=since,
        )
        .order_by()
        .values("product_id")
        .annotate(units=-Sum("delta"))
        .values("units")
    )
    return _integer(sales)


def not_snoozed(today: datetime.date) -> Q:
    return Q(snoozed_until__isnull=True) | Q(snoozed_until__lt=today)


def live_rules(*, organization_id: int, today: datetime.date) -> QuerySet[ReorderRule]:
    """The organization's rules that can be due: of live stock-keeping products, not snoozed
    (`snoozed_until` before today)."""
    return ReorderRule.objects.filter(
        not_snoozed(today),
        organization_id=organization_id,
        product__is_archived=False,
        product__has_variations=False,
    )


def low_rules(*, organization_id: int, today: datetime.date) -> QuerySet[ReorderRule]:
    """The live rules whose `available` units at their location are at most the reorder point:
    every due rule is one (on order is never negative); `is_due` says which are."""
    return (
        live_rules(organization_id=organization_id, today=today)
        .annotate(available=available_at_location())
        .filter(available__lte=F("min_quantity"))
    )


def is_due(*, available: int, on_order: int, min_quantity: int) -> bool:
    """THE "due" rule: available + on order at the location at or below the reorder point."""
    return available + on_order <= min_quantity


def due_product_ids(*, organization_id: int, today: datetime.date) -> list[int]:
    """The products of which a rule is due (two queries: what is on order, the low rules)."""
    on_order = on_order_by_location(organization_id=organization_id)
    rows = low_rules(organization_id=organization_id, today=today).values_list(
        "product_id", "location_id", "available", "min_quantity"
    )
    return sorted({
        product
        for product, location, available, low in rows.iterator(chunk_size=5000)
        if is_due(available=available, on_order=on_order.get((product, location), 0),
                  min_quantity=low)
    })  # fmt: skip


def replenishment(
    *,
    organization_id: int,
    today: datetime.date,
    location_id: int | None = None,
    supplier_id: int | None = None,
) -> QuerySet[ReorderRule]:
    """The due rules, ordered by supplier name (no supplier last), SKU, with what the rule's
    supplier sells of the product (one LEFT JOIN: `supplier_sku`, `offer_pack_size`,
    `offer_minimum`, `offer_unit_cost`, None without one) and the units `sold` from the
    location over the last SALES_DAYS days. These are the low rules (`low_rules`): those that
    what is on order covers are left out by `replenishment_rows`, which adds what to order."""
    rules = low_rules(organization_id=organization_id, today=today)
    if location_id is not None:
        rules = rules.filter(location_id=location_id)
    if supplier_id is not None:
        rules = rules.filter(supplier_id=supplier_id)
    since = timezone.now() - datetime.timedelta(days=SALES_DAYS)
    rules = rules.annotate(
        offer=FilteredRelation(
            "product__supplier_products",
            condition=Q(product__supplier_products__supplier=F("supplier")),
        ),
        supplier_sku=F("offer__supplier_sku"),
        offer_pack_size=F("offer__pack_size"),
        offer_minimum=F("offer__minimum_order_quantity"),
        offer_unit_cost=F("offer__unit_cost"),
        sold=sold_at_location(since=since),
    )
    # Only the columns the rows, the admin page and the drafts read (not the products' texts).
    rules = rules.select_related("product", "supplier", "location").only(
        "organization_id", "product_id", "location_id", "supplier_id", "min_quantity",
        "max_quantity", "snoozed_until", "product__organization_id", "product__sku",
        "product__name", "product__cost_price", "product__is_archived",
        "product__has_variations", "product__track_lots", "supplier__organization_id",
        "supplier__name", "location__organization_id", "location__name",
        "location__is_archived",
    )  # fmt: skip
    return rules.order_by(F("supplier__name").asc(nulls_last=True), "product__sku", "id")


@dataclass(frozen=True)
class Suggestion:
    quantity: int
    pack_size: int
    packs: int


def suggestion(
    *, max_quantity: int, available: int, on_order: int, pack_size: int, minimum: int
) -> Suggestion:
    """What to order: up to `max_quantity` from what is available and on order, raised to the
    supplier's minimum order quantity, then rounded up to whole packs."""
    wanted = max(max_quantity - available - on_order, minimum)
    packs = -(-wanted // pack_size)  # rounded up
    return Suggestion(packs * pack_size, pack_size, packs)


@dataclass(frozen=True)
class SalesPace:
    average_daily_sales: Decimal
    days_of_cover: Decimal | None


def sales_pace(*, sold: int, available: int) -> SalesPace:
    """Average daily sales over SALES_DAYS days (2 places) and the days the available units
    last at that pace (1 place; None when nothing sold)."""
    average = (Decimal(sold) / SALES_DAYS).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if sold <= 0:
        return SalesPace(average, None)
    cover = (Decimal(available) * SALES_DAYS / Decimal(sold)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_EVEN
    )
    return SalesPace(average, cover)


def replenishment_rows(
    *,
    organization_id: int,
    today: datetime.date,
    location_id: int | None = None,
    supplier_id: int | None = None,
) -> list[ReorderRule]:
    """`replenishment` read in two queries (what is on order, by `on_order_by_location`; the low
    rules), the due ones kept (`is_due`), each with its `on_order` and what to order (`suggestion`:
    `suggested_quantity`, `pack_size`, `packs`), its `unit_cost` (the supplier product's, else
    the product's cost price) and `line_cost` (the suggested quantity at that cost),
    `average_daily_sales` and `days_of_cover` (`sales_pace`)."""
    on_order = on_order_by_location(organization_id=organization_id)
    rows = []
    for rule in replenishment(
        organization_id=organization_id,
        today=today,
        location_id=location_id,
        supplier_id=supplier_id,
    ):
        rule.on_order = on_order.get((rule.product_id, rule.location_id), 0)
        if not is_due(
            available=rule.available, on_order=rule.on_order, min_quantity=rule.min_quantity
        ):
            continue
        rows.append(rule)
        suggested = suggestion(
            max_quantity=rule.max_quantity,
            available=rule.available,
            on_order=rule.on_order,
            pack_size=rule.offer_pack_size or 1,
            minimum=rule.offer_minimum or 0,
        )
        rule.suggested_quantity = suggested.quantity
        rule.pack_size = suggested.pack_size
        rule.packs = suggested.packs
        cost = rule.offer_unit_cost
        rule.unit_cost = cost if cost is not None else rule.product.cost_price
        rule.line_cost = (
            None if rule.unit_cost is None else rule.unit_cost * rule.suggested_quantity
        )
        pace = sales_pace(sold=rule.sold, available=rule.available)
        rule.average_daily_sales = pace.average_daily_sales
        rule.days_of_cover = pace.days_of_cover
    return rows


def _text(value, places: str) -> str | None:
    return None if value is None else f"{value.quantize(Decimal(places)):f}"


def as_rows(rules: list[ReorderRule], *, hide_costs: bool) -> list[dict]:
    """`replenishment_rows` as the API answers them (ReplenishmentRowSerializer's fields and
    formats), built directly: thousands of rows without a serializer's machinery per field."""
    return [
        {
            "rule": rule.pk,
            "product": rule.product_id,
            "sku": rule.product.sku,
            "product_name": rule.product.name,
            "location": rule.location_id,
            "supplier": rule.supplier_id,
            "supplier_sku": rule.supplier_sku,
            "available": rule.available,
            "on_order": rule.on_order,
            "min_quantity": rule.min_quantity,
            "max_quantity": rule.max_quantity,
            "suggested_quantity": rule.suggested_quantity,
            "pack_size": rule.pack_size,
            "packs": rule.packs,
            "unit_cost": None if hide_costs else _text(rule.unit_cost, "0.01"),
            "line_cost": None if hide_costs else _text(rule.line_cost, "0.01"),
            "average_daily_sales": _text(rule.average_daily_sales, "0.01"),
            "days_of_cover": _text(rule.days_of_cover, "0.1"),
        }
        for rule in rules
    ]
