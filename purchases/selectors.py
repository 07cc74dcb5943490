"""Reads of purchase orders, with their totals computed by the database."""

import datetime
import functools

from django.db.models import (
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from core.fields import MONEY_TOTAL
from inventory.models import Product
from orders.selectors import orders_with_totals
from purchases.models import (
    PurchaseOrder,
    PurchaseOrderItem,
    Receipt,
    ReceiptLine,
    SupplierReturn,
    SupplierReturnLine,
)
from stock.selectors import movements_with_details, products_with_stock_figures


def purchase_orders_with_totals() -> QuerySet[PurchaseOrder]:
    """Orders with `total_cost` and their lines with `line_total` (quantity * unit_cost)."""
    return orders_with_totals(PurchaseOrder, total="total_cost")


def receipts_of(order: PurchaseOrder) -> QuerySet[Receipt]:
    """An order's receipts, oldest first, with their lines and movements (constant queries)."""
    return (
        Receipt.objects.filter(purchase_order=order)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("lines", queryset=ReceiptLine.objects.select_related("item__product")),
            Prefetch("movements", queryset=movements_with_details().order_by("id")),
        )
        .order_by("id")
    )


def _returned_cost():
    """A return line's quantity at its purchase order line's unit cost."""
    return ExpressionWrapper(F("quantity") * F("item__unit_cost"), output_field=MONEY_TOTAL)


def supplier_returns_of(order: PurchaseOrder) -> QuerySet[SupplierReturn]:
    """An order's returns to the supplier, oldest first, with lines (`line_total`: at the
    purchase order line's unit cost), `total_cost` (what to claim back) and movements."""
    lines = SupplierReturnLine.objects.select_related("item__product").annotate(
        line_total=_returned_cost()
    )
    totals = (
        SupplierReturnLine.objects.filter(supplier_return=OuterRef("pk"))
        .order_by()
        .values("supplier_return")
        .annotate(total=Sum(_returned_cost()))
        .values("total")
    )
    return (
        SupplierReturn.objects.filter(purchase_order=order)
        .annotate(total_cost=Subquery(totals, output_field=MONEY_TOTAL))
        .select_related("created_by")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("movements", queryset=movements_with_details().order_by("id")),
        )
        .order_by("id")
    )


# --- On order: what open purchase orders still bring -----------------------------------------


def lines_still_to_come() -> QuerySet[PurchaseOrderItem]:
    """THE "on order" predicate: lines of open purchase orders (draft, submitted, partially
    received: PurchaseOrder.ON_ORDER) not received in full (the partial index
    `purchases_item_still_to_come` holds exactly the lines not received in full)."""
    return PurchaseOrderItem.objects.filter(
        order__status__in=PurchaseOrder.ON_ORDER, received_quantity__lt=F("quantity")
    )


def on_order(*, product=None, location=None) -> Coalesce:
    """The units still to come of a product (`product`: an expression naming its id, default
    the outer row's `pk`) on open purchase orders, at one location when `location` (an
    expression or an id) is given: a subquery per row, 0 when none (an integer)."""
    lines = lines_still_to_come().filter(
        product_id=product if product is not None else OuterRef("pk")
    )
    if location is not None:
        lines = lines.filter(order__location_id=location)
    total = (
        lines.order_by()
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
        .values("units")
    )
    return Coalesce(
        Subquery(total, output_field=IntegerField()), Value(0), output_field=IntegerField()
    )


@functools.lru_cache(maxsize=4)
def products_with_on_order(*, today: datetime.date) -> QuerySet[Product]:
    """Every product with its stock figures as of `today` (`products_with_stock_figures`) and
    `on_order`, what open purchase orders still bring (a subquery a row): the catalogue as the
    product list, a product and the export show it. Built once per date in a process (the
    `on_order` annotation alone cost about 0.45 ms a request): take a copy (`.all()`)."""
    return products_with_stock_figures(today=today).annotate(on_order=on_order())


def on_order_by_location(*, organization_id: int) -> dict[tuple[int, int], int]:
    """What the organization's open purchase orders still bring, by (product id, location
    id): one aggregate over the open orders' lines (the orders by the (organization, status)
    index, their lines by `purchases_item_still_to_come`), however many rules or products ask.
    Open orders are few beside the catalogue, so this is small."""
    rows = (
        lines_still_to_come()
        .filter(order__organization_id=organization_id)
        .order_by()
        .values("product_id", "order__location_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
        .values_list("product_id", "order__location_id", "units")
    )
    return {(product, location): units for product, location, units in rows}
