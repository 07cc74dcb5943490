"""What is due to be ordered, computed by the database (API.md, Replenishment).

A rule is due when, at its location, `available + on_order <= min_quantity` (on order: open
purchase orders delivering there, drafts included) and it is not snoozed (`snoozed_until`
before today). The rules are read as values, not models, in one query: each rule meets its
product's stock level without a lot at its location (a join on the levels' unique index, no
aggregate), which alone rules out every rule whose shelf holds more than its reorder point
before anything else is read; only lot-tracked products sum their lots' levels. What is on
order is one aggregate over the open orders' lines (`on_order_by_location`), and the units sold
over 90 days come from the ledger's partial index `stock_movement_sales`, for the low rules
only.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import (
    Case,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
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


def _in_lots_at_location() -> Coalesce:
    """The available units (on hand less reserved) of the rule's product in lots at the rule's
    location: the lot-tracked products' part of `available`."""
    levels = (
        StockLevel.objects.filter(
            organization_id=OuterRef("organization_id"),
            location_id=OuterRef("location_id"),
            product_id=OuterRef("product_id"),
            lot__isnull=False,
        )
        .order_by()
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("allocated")))
        .values("units")
    )
    return _integer(levels)


def with_available(rules: QuerySet[ReorderRule]) -> QuerySet[ReorderRule]:
    """`rules` with `shelf` (the available units of the product's level without a lot at the
    rule's location, 0 without one: one join on the unique index of such levels) and
    `available` (the shelf plus, for a lot-tracked product, its lots' levels there)."""
    return rules.annotate(
        shelf_level=FilteredRelation(
            "product__levels",
            condition=Q(product__levels__location=F("location"), product__levels__lot=None),
        ),
        shelf=Coalesce(
            F("shelf_level__quantity") - F("shelf_level__allocated"),
            Value(0),
            output_field=IntegerField(),
        ),
    ).annotate(
        available=F("shelf")
        + Case(
            When(product__track_lots=True, then=_in_lots_at_location()),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def sold_at_location(*, since: datetime.datetime) -> Coalesce:
    """Units of the rule's product that sales orders took from the rule's location since
    `since` (their OUT movements' deltas, negated), read from `stock_movement_sales`."""
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
    every due rule is one (on order is never negative); `is_due` says which are. The shelf
    alone is compared first: the lots only add to it, so a rule whose shelf is above its
    reorder point is out without reading anything else."""
    return with_available(live_rules(organization_id=organization_id, today=today)).filter(
        shelf__lte=F("min_quantity"), available__lte=F("min_quantity")
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


# A low rule's columns (`replenishment`): `values()` names and what they read.
COLUMNS = {
    "sku": F("product__sku"),
    "product_name": F("product__name"),
    "location_name": F("location__name"),
    "supplier_name": F("supplier__name"),
    "supplier_sku": F("offer__supplier_sku"),
    "offer_pack_size": F("offer__pack_size"),
    "offer_minimum": F("offer__minimum_order_quantity"),
    "offer_unit_cost": F("offer__unit_cost"),
    "cost_price": F("product__cost_price"),
}
FIELDS = ("id", "product_id", "location_id", "supplier_id", "available", "min_quantity",
          "max_quantity")  # fmt: skip


def replenishment(
    *,
    organization_id: int,
    today: datetime.date,
    location_id: int | None = None,
    supplier_id: int | None = None,
    with_sales: bool = True,
) -> QuerySet:
    """The low rules (`low_rules`) as values (COLUMNS, and `sold`: the units sold from the
    location over the last SALES_DAYS days, with `with_sales`), ordered by supplier name (no
    supplier last), SKU, with what the rule's supplier sells of the product (one LEFT JOIN:
    the `offer_*` columns, None without one). Those that what is on order covers are left out
    by `replenishment_rows`, which adds what to order."""
    rules = low_rules(organization_id=organization_id, today=today)
    if location_id is not None:
        rules = rules.filter(location_id=location_id)
    if supplier_id is not None:
        rules = rules.filter(supplier_id=supplier_id)
    rules = rules.annotate(
        offer=FilteredRelation(
            "product__supplier_products",
            condition=Q(product__supplier_products__supplier=F("supplier")),
        ),
    )
    columns = dict(COLUMNS)
    if with_sales:
        since = timezone.now() - datetime.timedelta(days=SALES_DAYS)
        columns["sold"] = sold_at_location(since=since)
    return rules.order_by(F("supplier__name").asc(nulls_last=True), "product__sku", "id").values(
        *FIELDS, **columns
    )


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
    with_sales: bool = True,
) -> list[dict]:
    """The due rules as rows (dicts), in two queries (what is on order, by
    `on_order_by_location`; the low rules, `replenishment`), the due ones kept (`is_due`): the
    API's fields (ReplenishmentRowSerializer's: `rule`, `product`, `sku`, ...; `on_order`; what
    to order by `suggestion`: `suggested_quantity`, `pack_size`, `packs`; `unit_cost`, the
    supplier product's, else the product's cost price, and `line_cost` at it, as Decimals;
    with `with_sales`, `average_daily_sales` and `days_of_cover` by `sales_pace`) and, for the
    admin and the drafts, `location_name` and `supplier_name`."""
    on_order = on_order_by_location(organization_id=organization_id)
    rows = []
    for rule in replenishment(
        organization_id=organization_id,
        today=today,
        location_id=location_id,
        supplier_id=supplier_id,
        with_sales=with_sales,
    ):
        product, location, available = rule["product_id"], rule["location_id"], rule["available"]
        ordered = on_order.get((product, location), 0)
        if not is_due(available=available, on_order=ordered, min_quantity=rule["min_quantity"]):
            continue
        suggested = suggestion(
            max_quantity=rule["max_quantity"],
            available=available,
            on_order=ordered,
            pack_size=rule["offer_pack_size"] or 1,
            minimum=rule["offer_minimum"] or 0,
        )
        cost = rule["offer_unit_cost"]
        unit_cost = cost if cost is not None else rule["cost_price"]
        row = {
            "rule": rule["id"],
            "product": product,
            "sku": rule["sku"],
            "product_name": rule["product_name"],
            "location": location,
            "supplier": rule["supplier_id"],
            "supplier_sku": rule["supplier_sku"],
            "available": available,
            "on_order": ordered,
            "min_quantity": rule["min_quantity"],
            "max_quantity": rule["max_quantity"],
            "suggested_quantity": suggested.quantity,
            "pack_size": suggested.pack_size,
            "packs": suggested.packs,
            "unit_cost": unit_cost,
            "line_cost": None if unit_cost is None else unit_cost * suggested.quantity,
            "location_name": rule["location_name"],
            "supplier_name": rule["supplier_name"],
        }
        if with_sales:
            pace = sales_pace(sold=rule["sold"], available=available)
            row["average_daily_sales"] = pace.average_daily_sales
            row["days_of_cover"] = pace.days_of_cover
        rows.append(row)
    return rows


def _text(value, places: str) -> str | None:
    return None if value is None else f"{value.quantize(Decimal(places)):f}"


def as_rows(rows: list[dict], *, hide_costs: bool) -> list[dict]:
    """`replenishment_rows` as the API answers them (ReplenishmentRowSerializer's fields and
    formats), built directly: thousands of rows without a serializer's machinery per field."""
    return [
        {
            "rule": row["rule"],
            "product": row["product"],
            "sku": row["sku"],
            "product_name": row["product_name"],
            "location": row["location"],
            "supplier": row["supplier"],
            "supplier_sku": row["supplier_sku"],
            "available": row["available"],
            "on_order": row["on_order"],
            "min_quantity": row["min_quantity"],
            "max_quantity": row["max_quantity"],
            "suggested_quantity": row["suggested_quantity"],
            "pack_size": row["pack_size"],
            "packs": row["packs"],
            "unit_cost": None if hide_costs else _text(row["unit_cost"], "0.01"),
            "line_cost": None if hide_costs else _text(row["line_cost"], "0.01"),
            "average_daily_sales": _text(row["average_daily_sales"], "0.01"),
            "days_of_cover": _text(row["days_of_cover"], "0.1"),
        }
        for row in rows
    ]
