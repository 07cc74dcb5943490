"""Reads of stocktakes: the list with its counts and running variance, the count sheet's lines
(expected, difference, moved since the count) and what is most worth counting next."""

import datetime

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from core.fields import MONEY_TOTAL
from stock.models import MovementLot, StockLevel, StockMovement
from stocktakes.models import Stocktake, StocktakeLine


def _per_stocktake(queryset: QuerySet, expression, output_field):
    """An aggregate of the stocktake's lines, as a subquery (no GROUP BY over the list)."""
    return Subquery(
        queryset.filter(stocktake_id=OuterRef("pk"))
        .order_by()
        .values("stocktake_id")
        .annotate(total=expression)
        .values("total")[:1],
        output_field=output_field,
    )


def stocktakes_with_figures() -> QuerySet[Stocktake]:
    """Stocktakes with `line_count`, `counted_count` and the variance: posted once completed,
    else the running sum of the counted lines' differences (valued at the average cost now)."""
    lines = StocktakeLine.objects.all()
    counted = lines.filter(counted_quantity__isnull=False)
    difference = F("counted_quantity") - F("expected_quantity")
    running_value = ExpressionWrapper(
        difference * F("product__average_cost"),
        output_field=DecimalField(max_digits=30, decimal_places=4),
    )
    return Stocktake.objects.select_related("location", "created_by").annotate(
        line_count=Coalesce(_per_stocktake(lines, Count("id"), IntegerField()), 0),
        counted_count=Coalesce(_per_stocktake(counted, Count("id"), IntegerField()), 0),
        variance_quantity_now=Case(
            When(status=Stocktake.Status.COMPLETED, then=F("variance_quantity")),
            When(status=Stocktake.Status.CANCELLED, then=Value(None)),
            default=Coalesce(_per_stocktake(counted, Sum(difference), IntegerField()), Value(0)),
            output_field=IntegerField(),
        ),
        variance_value_now=Case(
            When(status=Stocktake.Status.COMPLETED, then=F("variance_value")),
            When(status=Stocktake.Status.CANCELLED, then=Value(None)),
            default=Coalesce(
                _per_stocktake(counted, Sum(running_value), MONEY_TOTAL),
                Value(0, output_field=MONEY_TOTAL),
            ),
            output_field=MONEY_TOTAL,
        ),
    )


def _level_now(stocktake: Stocktake, *, with_lot: bool):
    levels = StockLevel.objects.filter(
        product_id=OuterRef("product_id"), location_id=stocktake.location_id
    )
    levels = levels.filter(lot_id=OuterRef("lot_id")) if with_lot else levels.filter(lot=None)
    return Subquery(levels.values("quantity")[:1], output_field=IntegerField())


def _moved_after_count(stocktake: Stocktake, *, with_lot: bool):
    """A movement at the location after the line's count, other than the stocktake's own."""
    if with_lot:
        moves = MovementLot.objects.filter(
            lot_id=OuterRef("lot_id"),
            movement__location_id=stocktake.location_id,
            movement__created_at__gt=OuterRef("counted_at"),
        ).exclude(movement__reference=stocktake.reference, movement__source="stocktake")
    else:
        moves = StockMovement.objects.filter(
            organization_id=stocktake.organization_id,
            product_id=OuterRef("product_id"),
            location_id=stocktake.location_id,
            created_at__gt=OuterRef("counted_at"),
        ).exclude(reference=stocktake.reference, source=StockMovement.Source.STOCKTAKE)
    return Exists(moves)


def lines_of(stocktake: Stocktake) -> QuerySet[StocktakeLine]:
    """The stocktake's lines, count-sheet order (SKU, then the lot's expiry; found stock
    after), with `expected` (the books when counted, else now), `difference` and
    `moved_since_count`."""
    books_now = Coalesce(
        Case(
            When(lot__isnull=True, then=_level_now(stocktake, with_lot=False)),
            default=_level_now(stocktake, with_lot=True),
        ),
        0,
    )
    expected = Coalesce(F("expected_quantity"), books_now)
    return (
        StocktakeLine.objects.filter(stocktake_id=stocktake.pk)
        .select_related("product", "lot", "counted_by")
        .annotate(
            expected=expected,
            difference_now=Case(
                When(counted_quantity__isnull=True, then=Value(None)),
                default=F("counted_quantity") - F("expected_quantity"),
                output_field=IntegerField(),
            ),
            moved_since_count=Case(
                When(counted_at__isnull=True, then=Value(False)),
                When(lot__isnull=True, then=_moved_after_count(stocktake, with_lot=False)),
                default=_moved_after_count(stocktake, with_lot=True),
                output_field=BooleanField(),
            ),
        )
        .order_by("id")
    )


def counting_suggestions(
    *, organization_id: int, location_id: int, limit: int, tz: datetime.tzinfo
) -> QuerySet:
    """What is most worth counting next at the location (API.md, docs/api.md): products with
    stock there, never counted first, then by the local day of their last count, oldest
    first; within the same day, the highest stock value there (quantity × price) first."""
    value = ExpressionWrapper(F("quantity") * F("product__price"), output_field=MONEY_TOTAL)
    return (
        StockLevel.objects.filter(
            organization_id=organization_id,
            location_id=location_id,
            quantity__gt=0,
            product__is_archived=False,
        )
        .values("product_id")
        .annotate(
            stock_value=Sum(value),
            on_hand=Sum("quantity"),
            sku=F("product__sku"),
            product_name=F("product__name"),
            last_counted_at=F("product__last_counted_at"),
            counted_day=TruncDate("product__last_counted_at", tzinfo=tz),
        )
        .order_by(F("counted_day").asc(nulls_first=True), "-stock_value", "product_id")[:limit]
    )


def counted_filter(value: bool) -> Q:
    return Q(counted_quantity__isnull=not value)
