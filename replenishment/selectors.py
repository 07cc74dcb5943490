"""What is due to be ordered, computed by the database (API.md, Replenishment).

A rule is due when, at its location, `available + on_order <= min_quantity` (on order: open
purchase orders delivering there, drafts included) and it is not snoozed (`snoozed_until`
before today). Three queries, however many rules: what is on order (one aggregate over the open
orders' lines, `on_order_by_location`); the low rules (`low_rules`: each rule meets its
product's stock level without a lot at its location, a join on the rule's own columns with no
aggregate, which rules out every rule whose shelf holds more than its reorder point before
anything else is read; lots are summed only for the rules left); and those rules' rows as
values, not models (`replenishment`), with the units sold over 90 days from the ledger's
partial index `stock_movement_sales`.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection, transaction
from django.utils import timezone

from purchases.selectors import on_order_by_location

SALES_DAYS = 90  # average daily sales: units sold from the location over this many days


# The low rules (`low_rules`), in one statement: each rule meets its product's level without a
# lot at its location by a join on the rule's own columns (no aggregate), which rules out every
# rule whose shelf holds more than its reorder point before anything else is read; the lots'
# levels are summed only for the rules left (the cheaper condition is evaluated first), so
# `available` is exact for lot-tracked products too; then the product, location, supplier and
# what the rule's supplier sells of the product (the `offer_*` columns, NULL without one), and,
# when asked, the units `sold` from the location since a date (`stock_movement_sales`).
SHELF = "COALESCE(level.quantity - level.allocated, 0)"
IN_LOTS = """COALESCE((
    SELECT SUM(lot.quantity - lot.allocated) FROM stock_stocklevel lot
    WHERE lot.product_id = r.product_id AND lot.location_id = r.location_id
      AND lot.lot_id IS NOT NULL), 0)"""
SOLD = """, COALESCE((
    SELECT -SUM(sale.delta) FROM stock_stockmovement sale
    WHERE sale.organization_id = r.organization_id AND sale.product_id = r.product_id
      AND sale.location_id = r.location_id AND sale.source = 'sales_order'
      AND sale.created_at >= %s), 0) AS sold"""
LOW_RULES = f"""
SELECT r.id, r.product_id, r.location_id, r.supplier_id, r.min_quantity, r.max_quantity,
       {SHELF} + {IN_LOTS} AS available,
       product.sku, product.name AS product_name, product.cost_price,
       place.name AS location_name, supplier.name AS supplier_name, offer.supplier_sku,
       offer.pack_size AS offer_pack_size, offer.minimum_order_quantity AS offer_minimum,
       offer.unit_cost AS offer_unit_cost {{sold}}
FROM replenishment_reorderrule r
JOIN inventory_product product ON product.id = r.product_id
JOIN stock_location place ON place.id = r.location_id
LEFT JOIN stock_stocklevel level
  ON level.product_id = r.product_id AND level.location_id = r.location_id
     AND level.lot_id IS NULL
LEFT JOIN suppliers_supplier supplier ON supplier.id = r.supplier_id
LEFT JOIN suppliers_supplierproduct offer
  ON offer.product_id = r.product_id AND offer.supplier_id = r.supplier_id
WHERE r.organization_id = %s AND (r.snoozed_until IS NULL OR r.snoozed_until < %s) {{filters}}
  AND NOT product.is_archived AND NOT product.has_variations
  AND {SHELF} <= r.min_quantity AND {SHELF} + {IN_LOTS} <= r.min_quantity
ORDER BY supplier.name NULLS LAST, product.sku, r.id
"""


def low_rules(
    *,
    organization_id: int,
    today: datetime.date,
    location_id: int | None = None,
    supplier_id: int | None = None,
    sold_since: datetime.datetime | None = None,
) -> list[dict]:
    """The rules (not snoozed, of live stock-keeping products) whose `available` units at
    their location (on hand less reserved, every lot together) are at most the reorder point,
    as rows (LOW_RULES' columns; `sold` with `sold_since`), ordered by supplier name (no
    supplier last), SKU: every due rule is one (on order is never negative); `is_due` says
    which are."""
    ops = connection.ops
    params = [] if sold_since is None else [ops.adapt_datetimefield_value(sold_since)]
    params += [organization_id, ops.adapt_datefield_value(today)]
    filters = ""
    for column, value in (("location_id", location_id), ("supplier_id", supplier_id)):
        if value is not None:
            filters += f" AND r.{column} = %s"
            params.append(value)
    sql = LOW_RULES.format(filters=filters, sold="" if sold_since is None else SOLD)
    inside_a_transaction = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner cannot tell how few rules their shelf leaves in, and would hash every
            # stock level of every shop (seconds at a million products) rather than meet each
            # rule's level by its index (a merge join, or a probe a rule: ~0.1-0.2 s for
            # 100,000 rules); for this statement only: inside an outer transaction a SET LOCAL
            # would outlive this savepoint, so it is set back after the statement.
            cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]  # (SQLite: plain tuples)
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if connection.vendor == "postgresql" and inside_a_transaction:
            cursor.execute("SET LOCAL enable_hashjoin TO DEFAULT")  # (else: the commit does)
    return rows


def is_due(*, available: int, on_order: int, min_quantity: int) -> bool:
    """THE "due" rule: available + on order at the location at or below the reorder point."""
    return available + on_order <= min_quantity


def due_product_ids(*, organization_id: int, today: datetime.date) -> list[int]:
    """The products of which a rule is due (two statements: what is on order, the low rules)."""
    on_order = on_order_by_location(organization_id=organization_id)
    return sorted({
        rule["product_id"]
        for rule in low_rules(organization_id=organization_id, today=today)
        if is_due(available=rule["available"],
                  on_order=on_order.get((rule["product_id"], rule["location_id"]), 0),
                  min_quantity=rule["min_quantity"])
    })  # fmt: skip


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
    """The due rules as rows (dicts), in two statements (what is on order, by
    `on_order_by_location`; the low rules, `low_rules`), the due ones kept (`is_due`): the
    API's fields (ReplenishmentRowSerializer's: `rule`, `product`, `sku`, ...; `on_order`; what
    to order by `suggestion`: `suggested_quantity`, `pack_size`, `packs`; `unit_cost`, the
    supplier product's, else the product's cost price, and `line_cost` at it, as Decimals;
    with `with_sales`, `average_daily_sales` and `days_of_cover` by `sales_pace`) and, for the
    admin and the drafts, `location_name` and `supplier_name`."""
    on_order = on_order_by_location(organization_id=organization_id)
    since = timezone.now() - datetime.timedelta(days=SALES_DAYS)
    rules = low_rules(
        organization_id=organization_id,
        today=today,
        location_id=location_id,
        supplier_id=supplier_id,
        sold_since=since if with_sales else None,
    )
    rows = []
    for rule in rules:
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
        unit_cost = _money(rule["offer_unit_cost"])
        if unit_cost is None:
            unit_cost = _money(rule["cost_price"])
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


def _money(value) -> Decimal | None:
    """A cost read by the raw statement (a Decimal on PostgreSQL, a number on SQLite)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))


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
