"""Reads of stock: movements, levels, lots, transfers, and the ledger's three invariants."""

import datetime
import functools
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from core.dates import within_local_dates
from core.fields import MONEY_TOTAL, money_sum
from inventory.models import LOW_STOCK, Product
from inventory.selectors import (
    expired_by,
    expired_condition,
    expiry_window,
    stock_keeping_products,
)
from stock.models import Location, Lot, MovementLot, StockLevel, StockMovement, Transfer


def expired_level(today: datetime.date) -> Q:
    """A stock level whose units are expired (`expired_by`): an expired lot's, or a product's
    without lots whose expiration_date has come."""
    return expired_by(today, prefix="lot__") | (
        Q(lot__isnull=True) & expired_by(today, prefix="product__")
    )


def expired_stock_value(*, organization_id: int, today: datetime.date) -> Decimal:
    """`expired_quantity * price` summed over the stock-keeping products: the stock of lots
    expired by today, and the whole stock of the other products whose date has come. Two scans
    of the expiry indexes (of lots, of products), not a join of every level."""
    whole = (
        stock_keeping_products(organization_id=organization_id)
        .filter(expired_by(today), track_lots=False, quantity__gt=0)
        .aggregate(value=money_sum(F("quantity") * F("price")))["value"]
    )
    in_lots = Lot.objects.filter(
        expired_by(today),
        organization_id=organization_id,
        quantity__gt=0,
        product__is_archived=False,
        product__has_variations=False,
    ).aggregate(value=money_sum(F("quantity") * F("product__price")))["value"]
    return whole + in_lots


def movements_with_details() -> QuerySet[StockMovement]:
    """Movements with what their representation needs, in a constant number of queries."""
    return StockMovement.objects.select_related(
        "performed_by", "product", "location"
    ).prefetch_related(
        Prefetch("lot_lines", queryset=MovementLot.objects.select_related("lot").order_by("id"))
    )


def movements_between(
    queryset: QuerySet[StockMovement],
    *,
    organization,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[StockMovement]:
    """Movements created on the organization's local dates date_from..date_to, both inclusive
    (an index-friendly UTC range)."""
    return within_local_dates(
        queryset,
        field="created_at",
        organization=organization,
        date_from=date_from,
        date_to=date_to,
    )


def live_locations() -> QuerySet[Location]:
    """Locations that take stock (archived ones are hidden)."""
    return Location.objects.filter(is_archived=False)


def lots_with_state(*, today: datetime.date) -> QuerySet[Lot]:
    """Lots with `is_expired` (as of `today`), ordered by expiry (none last), then id."""
    return (
        Lot.objects.select_related("product")
        .annotate(is_expired=ExpressionWrapper(expired_by(today), output_field=BooleanField()))
        .order_by(F("expiration_date").asc(nulls_last=True), "id")
    )


def held_levels() -> QuerySet[StockLevel]:
    """Levels that hold or reserve stock, with what their rows show."""
    return (
        StockLevel.objects.filter(Q(quantity__gt=0) | Q(allocated__gt=0))
        .select_related("product", "location", "lot")
        .order_by("product_id", "location_id", "lot_id", "id")  # the indexes' order
    )


def transfers_with_details() -> QuerySet[Transfer]:
    movements = movements_with_details()
    return Transfer.objects.select_related("performed_by").prefetch_related(
        Prefetch("out_movement", queryset=movements), Prefetch("in_movement", queryset=movements)
    )


# --- The ledger's invariants --------------------------------------------------------------------


def _total(model, *, per: str, of: str):
    """The sum of `model.of` over the rows whose `per` is the outer row (0 when none)."""
    totals = (
        model.objects.filter(**{per: OuterRef("pk")}).order_by().values(per).annotate(t=Sum(of))
    )
    return Coalesce(Subquery(totals.values("t")[:1]), Value(0), output_field=IntegerField())


def ledger_mismatches(
    *, organization_id: int | None = None, id_from: int | None = None, id_to: int | None = None
) -> list[dict]:
    """Every broken invariant among the products (by id range, for big checks in batches):
    a product whose quantity differs from its movements or its levels; a product and location
    whose movements there differ from its levels there; a lot whose quantity differs from its
    lot lines or its levels; an `allocated` that differs from its levels' or its reservations.
    Rows: kind, id, organization_id, sku, location_id, lot_id, recorded (the stored figure),
    ledger (what the movements or reservations sum to), levels."""
    products = Product.objects.all()
    if organization_id is not None:
        products = products.filter(organization_id=organization_id)
    if id_from is not None:
        products = products.filter(pk__gte=id_from)
    if id_to is not None:
        products = products.filter(pk__lte=id_to)
    found = []
    for row in (
        products.annotate(
            ledger=_total(StockMovement, per="product", of="delta"),
            in_levels=_total(StockLevel, per="product", of="quantity"),
        )
        .filter(~Q(quantity=F("ledger")) | ~Q(quantity=F("in_levels")))
        .order_by("pk")
        .values("id", "organization_id", "sku", "ledger", "in_levels", recorded=F("quantity"))
    ):
        row["levels"] = row.pop("in_levels")
        found.append({"kind": "product", "location_id": None, "lot_id": None, **row})
    ids = products.values("pk")
    at_locations = {}
    for row in (
        StockMovement.objects.filter(product__in=ids)
        .values("product_id", "location_id")
        .annotate(total=Sum("delta"))
        .order_by()
    ):
        at_locations[(row["product_id"], row["location_id"])] = [row["total"], 0]
    for row in (
        StockLevel.objects.filter(product__in=ids)
        .values("product_id", "location_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        at_locations.setdefault((row["product_id"], row["location_id"]), [0, 0])[1] = row["total"]
    skus = dict(products.values_list("pk", "sku"))
    organizations = dict(products.values_list("pk", "organization_id"))
    for (product_id, location_id), (ledger, held) in sorted(at_locations.items()):
        if ledger != held:
            found.append(
                {
                    "kind": "location",
                    "id": product_id,
                    "organization_id": organizations[product_id],
                    "sku": skus[product_id],
                    "location_id": location_id,
                    "lot_id": None,
                    "recorded": held,
                    "ledger": ledger,
                    "levels": held,
                }
            )
    for row in (
        Lot.objects.filter(product__in=ids)
        .annotate(
            ledger=_total(MovementLot, per="lot", of="delta"),
            in_levels=_total(StockLevel, per="lot", of="quantity"),
        )
        .filter(~Q(quantity=F("ledger")) | ~Q(quantity=F("in_levels")))
        .order_by("pk")
        .values(
            "pk", "product_id", "organization_id", "ledger", "in_levels", recorded=F("quantity")
        )
    ):
        found.append(
            {
                "kind": "lot",
                "id": row["product_id"],
                "organization_id": row["organization_id"],
                "sku": skus[row["product_id"]],
                "location_id": None,
                "lot_id": row["pk"],
                "recorded": row["recorded"],
                "ledger": row["ledger"],
                "levels": row["in_levels"],
            }
        )
    found.extend(_reservation_mismatches(products, skus))
    return found


def _reservation_mismatches(products, skus: dict[int, str]) -> list[dict]:
    """What is promised adds up: a product's `allocated` is its levels' `allocated`, and each
    level's `allocated` is what the confirmed orders' reservations hold there (the rows behind
    the `reservations` relation, which the sales app keeps)."""
    found = []
    for row in (
        products.annotate(in_levels=_total(StockLevel, per="product", of="allocated"))
        .filter(~Q(allocated=F("in_levels")))
        .order_by("pk")
        .values("id", "organization_id", "sku", "in_levels", recorded=F("allocated"))
    ):
        levels = row.pop("in_levels")
        found.append(
            {"kind": "allocated", "location_id": None, "lot_id": None, "ledger": levels,
             "levels": levels, **row}
        )  # fmt: skip
    for row in (
        StockLevel.objects.filter(product__in=products.values("pk"))
        .annotate(reserved=Coalesce(Sum("reservations__quantity"), 0))
        .filter(~Q(allocated=F("reserved")))
        .order_by("pk")
        .values("product_id", "organization_id", "location_id", "lot_id", "allocated", "reserved")
    ):
        found.append(
            {
                "kind": "reserved",
                "id": row["product_id"],
                "organization_id": row["organization_id"],
                "sku": skus.get(row["product_id"], ""),
                "location_id": row["location_id"],
                "lot_id": row["lot_id"],
                "recorded": row["allocated"],
                "ledger": row["reserved"],
                "levels": row["allocated"],
            }
        )
    return found


def ledger_mismatch_batches(
    *, organization_id: int | None = None, batch_size: int = 10_000
) -> Iterator[tuple[int, int, list[dict]]]:
    """Check the ledger in product-id batches: yields (last id checked, last id, mismatches)."""
    products = Product.objects.all()
    if organization_id is not None:
        products = products.filter(organization_id=organization_id)
    bounds = products.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return
    start = bounds["first"]
    while start <= bounds["last"]:
        end = start + batch_size - 1
        rows = ledger_mismatches(organization_id=organization_id, id_from=start, id_to=end)
        yield min(end, bounds["last"]), bounds["last"], rows
        start = end + 1


# --- Products with their stock figures ---------------------------------------------------------


def _lots_of_product(**conditions) -> QuerySet[Lot]:
    return Lot.objects.filter(product=OuterRef("pk"), quantity__gt=0, **conditions).order_by()


def with_stock_figures(queryset: QuerySet[Product], *, today):
    """Annotate available, is_low_stock, expired_quantity, is_expired and stock_value in SQL,
    not per row in Python, as of `today`: the organization's, or an expression of it per row
    (`core.dates.EachOrganizationsToday`). A lot-tracked product's expired quantity is its
    expired lots' stock; another's is all of its quantity once its expiration_date has come. A
    product whose variations keep its stock is neither low nor expired itself."""
    in_expired_lots = (
        _lots_of_product()
        .filter(expired_by(today))
        .values("product")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return queryset.annotate(
        available=ExpressionWrapper(F("quantity") - F("allocated"), output_field=IntegerField()),
        is_low_stock=ExpressionWrapper(LOW_STOCK, output_field=BooleanField()),
        expired_quantity=Case(
            When(track_lots=True, then=Coalesce(Subquery(in_expired_lots), Value(0))),
            When(expired_condition(today), then=F("quantity")),
            default=Value(0),
            output_field=IntegerField(),
        ),
        is_expired=ExpressionWrapper(expired_condition(today), output_field=BooleanField()),
        stock_value=ExpressionWrapper(F("quantity") * F("price"), output_field=MONEY_TOTAL),
    )


@functools.lru_cache(maxsize=4)
def _products_with_figures_of(today: datetime.date) -> QuerySet[Product]:
    return with_stock_figures(Product.objects.select_related("category"), today=today)


def products_with_stock_figures(*, today: datetime.date) -> QuerySet[Product]:
    """Every product (with its category) and `with_stock_figures` as of `today` (the caller's
    organization's local date): the annotated queryset is built once per date in a process
    (about 1 ms of building per request otherwise; at any instant the organizations' todays are
    at most three dates); each caller gets a copy to filter."""
    return _products_with_figures_of(today).all()


def expiring_within(days: int, *, organization_id: int | None, today) -> Q:
    """Products (of the organization; of every one for None) with stock that expires within
    `days` days and has not expired yet: a lot of a lot-tracked product, or another product's
    whole stock. `today`: the organization's; for every organization, an expression of each
    one's (`core.dates.EachOrganizationsToday`)."""
    window = expiry_window(days, today)
    if organization_id is not None:  # both scans start with it (the expiry indexes do)
        window &= Q(organization_id=organization_id)
    # One set of ids from two index scans (lots in the window; the other products' own dates),
    # not an OR that sends the planner through every product of the organization.
    in_lots = Lot.objects.filter(window, quantity__gt=0)  # only lot-tracked stock is in lots
    whole = Product.objects.filter(window, track_lots=False, quantity__gt=0)
    ids = in_lots.order_by().values("product_id").union(whole.order_by().values("id"))
    return Q(has_variations=False, pk__in=ids)


def next_expiry(*, today: datetime.date):
    """The date a product's stock that has not expired yet expires first (a lot's for a
    lot-tracked product), for "most urgent first"."""
    first_lot = (
        _lots_of_product(expiration_date__gt=today)
        .values("product")
        .annotate(first=Min("expiration_date"))
        .values("first")
    )
    return Case(When(track_lots=True, then=Subquery(first_lot)), default=F("expiration_date"))


def most_urgent_expiring(
    queryset: QuerySet[Product], *, days: int, organization_id: int | None, today: datetime.date
):
    """Products whose stock expires within `days` days, earliest first."""
    return (
        queryset.filter(expiring_within(days, organization_id=organization_id, today=today))
        .annotate(expires_on=next_expiry(today=today))
        .order_by("expires_on", "id")
    )


def expiry_rows(
    products: QuerySet[Product],
    *,
    expired: bool,
    days: int = 0,
    today: datetime.date,
    limit: int | None = None,
) -> list[dict]:
    """What an alert lists as expired (or, with `expired=False`, expiring within `days` days),
    earliest first: a lot-tracked product's lots one by one, another product as a whole. Rows:
    id, sku, name, lot_code (None for a product without lots), quantity, expiration_date,
    supplier_name, value (quantity * price). Two queries."""
    window = expired_by(today) if expired else expiry_window(days, today)
    fields = ("sku", "name", "supplier_name", "value")
    lots = (
        Lot.objects.filter(window, product__in=products.filter(track_lots=True), quantity__gt=0)
        .annotate(
            sku=F("product__sku"),
            name=F("product__name"),
            supplier_name=F("product__supplier__name"),
            value=ExpressionWrapper(F("quantity") * F("product__price"), MONEY_TOTAL),
            lot_code=F("code"),
        )
        .order_by("expiration_date", "product_id", "id")
        .values("product_id", *fields, "lot_code", "quantity", "expiration_date")
    )
    whole = (
        products.filter(window, track_lots=False, has_variations=False, quantity__gt=0)
        .annotate(
            supplier_name=F("supplier__name"),
            value=ExpressionWrapper(F("quantity") * F("price"), MONEY_TOTAL),
            lot_code=Value(None, output_field=CharField()),
        )
        .order_by("expiration_date", "id")
        .values("id", *fields, "lot_code", "quantity", "expiration_date")
    )
    rows = [{"id": row.pop("product_id"), **row} for row in lots[:limit]] + list(whole[:limit])
    rows.sort(key=lambda row: (row["expiration_date"], row["sku"], row["lot_code"] or ""))
    return rows[:limit]
