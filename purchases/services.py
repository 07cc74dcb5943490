"""Purchase orders: status moves and edits; receipts add what arrives, line by line, and
receiving by status adds the rest: no line is ever received more than was ordered; returns
send goods back to the supplier."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.cache import figures_changed
from core.changes import UNSET, given
from core.errors import BrokenRule, Conflict
from core.events import emit, money
from orders import services as orders
from orders.services import DocumentLine, OrderItem
from purchases.models import PurchaseOrder, Receipt, SupplierReturn
from stock.models import Location, StockMovement
from stock.services import StockLine, add_to_stock, take_out_of_stock
from suppliers.models import Supplier, SupplierProduct
from users.models import User

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status
Source = StockMovement.Source

# What each status lets be edited ("items": the lines); anything else is a 409 (API.md).
DRAFT_ONLY = frozenset({"items", "supplier", "location"})
EDITABLE = {
    Status.DRAFT: DRAFT_ONLY | {"expected_date", "notes"},
    Status.SUBMITTED: frozenset({"expected_date", "notes"}),
    Status.PARTIALLY_RECEIVED: frozenset({"expected_date", "notes"}),
}


def on_order_changed(organization_id: int) -> None:
    """What is on order changed (an order made, edited, moved, deleted): the figures cached
    with it (the alerts' products show `on_order`) are out of date."""
    figures_changed(organization_id)


def _refuse_edit(order: PurchaseOrder, refused: set[str]) -> Conflict:
    if refused & DRAFT_ONLY:
        return Conflict(
            f"The items and supplier of a {order.status} purchase order cannot be changed."
        )
    return Conflict(f"A {order.status} purchase order cannot be edited.")


# --- Status moves (the status table: STATUS_ACTIONS) --------------------------------------------


def _received(order: PurchaseOrder, *, status: str, movements, receipt=None) -> None:
    """`purchase_order.received` (a receipt, partial or complete) in its transaction, with what
    came in: each line's product, quantity and unit cost."""
    emit(
        organization_id=order.organization_id,
        type="purchase_order.received",
        data={
            "id": order.pk,
            "reference": order.reference,
            "status": status,
            "receipt": receipt.pk if receipt else None,
            "location": movements[0].location_id if movements else order.location_id,
            "lines": [
                {
                    "product": movement.product_id,
                    "sku": movement.product.sku,
                    "quantity": movement.delta,
                    "unit_cost": money(movement.unit_cost),
                }
                for movement in movements
            ],
        },
    )


def receive_purchase_order(*, order: PurchaseOrder, user: User | None) -> PurchaseOrder:
    """Receive what is still to come: every line's remaining quantity goes in at the order's
    location, one IN movement each (at the line's unit cost), all in one transaction; the
    order is `received`. Lot-tracked lines need a receipt, which names the lot."""
    return orders.change_status(order=order, status=Status.RECEIVED, user=user, effect=_receive)


def _receive(order: PurchaseOrder, user) -> list[str]:
    items = list(order.items.select_related("product").order_by("id"))
    lot_tracked = [
        f"Line {position + 1} ({item.product.sku})"
        for position, item in enumerate(items)
        if item.remaining and item.product.track_lots
    ]
    if lot_tracked:
        raise BrokenRule(
            "; ".join(lot_tracked) + ": lot-tracked, receive it with a receipt that names the lot.",
            field="items",
        )
    movements = add_to_stock(
        lines=[
            StockLine(item.product_id, item.remaining, unit_cost=item.unit_cost)
            for item in items
            if item.remaining
        ],
        location=order.location,
        source=Source.PURCHASE_ORDER,
        reference=order.reference,
        user=user,
    )
    order.items.update(received_quantity=F("quantity"))
    order.received_at = timezone.now()
    _received(order, status=Status.RECEIVED, movements=movements)
    return ["received_at"]


def close_purchase_order(*, order: PurchaseOrder, user: User | None) -> PurchaseOrder:
    """A partially received order whose rest will not come is `closed`; nothing moves."""
    return orders.change_status(order=order, status=Status.CLOSED, user=user)


def cancel_purchase_order(*, order: PurchaseOrder, user: User | None) -> PurchaseOrder:
    """A draft or submitted order that will not be placed is `cancelled`; nothing moves."""
    return orders.change_status(order=order, status=Status.CANCELLED, user=user)


STATUS_ACTIONS = {
    Status.RECEIVED: receive_purchase_order,
    Status.CLOSED: close_purchase_order,
    Status.CANCELLED: cancel_purchase_order,
}


def _product_cost(product):
    """A line without a unit cost takes the product's expected purchase cost (or none)."""
    return product.cost_price


def _supplier_costs(order: PurchaseOrder, products) -> dict:
    """A line without a unit cost takes first what the order's supplier sells the product at
    (its supplier product's `unit_cost`), in one query for the lines."""
    if not products:
        return {}
    return dict(
        SupplierProduct.objects.filter(
            supplier_id=order.supplier_id, product_id__in=[product.pk for product in products]
        ).values_list("product_id", "unit_cost")
    )


RULES = orders.Rules(
    model=PurchaseOrder,
    actions=STATUS_ACTIONS,
    editable=EDITABLE,
    refuse_edit=_refuse_edit,
    gone=GONE,
    default_price=_product_cost,
    default_prices=_supplier_costs,
)


# --- Creating and editing ----------------------------------------------------------------------


def create_purchase_order(
    *,
    organization,
    user: User | None,
    supplier: Supplier,
    items: list[OrderItem],
    status: str = Status.DRAFT,
    location: Location | None = None,
    expected_date: datetime.date | None = None,
    notes: str = "",
) -> PurchaseOrder:
    """Number the order PO-nnnnn and store its lines (a line without a unit cost takes the
    product's cost price); the goods arrive at `location` (default: the organization's
    default); created as received, it adds stock too."""
    fields = {
        "supplier": supplier,
        "location": location,
        "expected_date": expected_date,
        "notes": notes,
    }
    order = orders.create_order(
        RULES, organization=organization, user=user, items=items, status=status, fields=fields
    )
    on_order_changed(organization.pk)
    return order


@dataclass(frozen=True)
class DraftOrder:
    """A draft purchase order to make: its supplier and location (ids), its lines (each with
    its unit cost, or the defaults of `create_purchase_order`) and its notes."""

    supplier_id: int
    location_id: int
    items: list[OrderItem]
    notes: str = ""


def create_draft_orders(
    *, organization, user: User | None, drafts: list[DraftOrder]
) -> list[PurchaseOrder]:
    """Many draft purchase orders at once (replenishment's): numbered PO-nnnnn in the order
    given, in one transaction and a constant number of queries however many orders and lines
    (`orders.create_open_orders`: one counter UPDATE, one INSERT of the orders, one of the
    lines)."""
    made = orders.create_open_orders(
        RULES,
        organization=organization,
        user=user,
        orders=[
            orders.NewOrder(
                {
                    "supplier_id": draft.supplier_id,
                    "location_id": draft.location_id,
                    "notes": draft.notes,
                },
                draft.items,
            )  # fmt: skip
            for draft in drafts
        ],
    )
    if made:
        on_order_changed(organization.pk)
    return made


def update_purchase_order(
    *,
    order: PurchaseOrder,
    user: User | None,
    supplier: Supplier = UNSET,
    location: Location = UNSET,
    expected_date: datetime.date | None = UNSET,
    notes: str = UNSET,
    items: list[OrderItem] | None = None,
    status: str | None = None,
) -> PurchaseOrder:
    """Edit the order as its status allows (EDITABLE: items, supplier and location only while
    draft, notes and date until received, closed or cancelled), replace its lines when `items`
    are given, then move it to `status` when given."""
    fields = given(
        {"supplier": supplier, "location": location, "expected_date": expected_date,
         "notes": notes}
    )  # fmt: skip
    order = orders.update_order(
        RULES, order=order, user=user, fields=fields, items=items, status=status
    )
    on_order_changed(order.organization_id)
    return order


# --- Documents: receipts and returns to the supplier -------------------------------------------


def _receivable(order: PurchaseOrder) -> None:
    if order.status not in PurchaseOrder.RECEIVABLE:
        raise Conflict(f"A {order.status} purchase order takes no receipts.")


RECEIPT = orders.Document(
    model=Receipt,
    order_field="purchase_order",
    counter="received_quantity",
    left=lambda item: item.remaining,
    verb="receive",
    left_as="still to come",
    check=_receivable,
    line_values=lambda line, item: {
        "lot_code": line.lot_code,
        "expiration_date": line.expiration_date,
    },
)
SUPPLIER_RETURN = orders.Document(
    model=SupplierReturn,
    order_field="purchase_order",
    counter="returned_quantity",
    left=lambda item: item.received_quantity - item.returned_quantity,
    verb="return",
    left_as="received and not returned yet",
    line_values=lambda line, item: {"lot_code": line.lot_code},
)


def record_receipt(
    *,
    order: PurchaseOrder,
    user: User | None,
    lines: list[DocumentLine],
    location: Location | None = None,
    note: str = "",
) -> Receipt:
    """Receive what arrived: per line an item of this order, a quantity no larger than what
    is still to come (a 400 naming the line), its lot for a lot-tracked product. One IN per
    line at `location` (default the order's), at the line's unit cost; the order becomes
    `partially_received`, or `received` once every line is complete. Under the order's lock,
    so concurrent receipts never receive more than was ordered."""

    def add(*, order, lines, reference, location, user, note):
        return add_to_stock(
            lines=lines,
            location=location,
            source=Source.PURCHASE_ORDER,
            reference=reference,
            user=user,
            note=note,
            field="lines",
        )

    with transaction.atomic():
        receipt = orders.record_document(
            RECEIPT, order=order, user=user, lines=lines, move_stock=add, location=location,
            note=note,
        )  # fmt: skip
        order = receipt.purchase_order  # locked, in this transaction
        complete = not order.items.filter(received_quantity__lt=F("quantity")).exists()
        order.status = Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED
        changed = ["status", "updated_at"]
        if complete:
            order.received_at = timezone.now()
            changed.append("received_at")
        order.save(update_fields=changed)
        _received(
            order,
            status=order.status,
            movements=list(receipt.movements.select_related("product").order_by("id")),
            receipt=receipt,
        )
        return receipt


def record_supplier_return(
    *,
    order: PurchaseOrder,
    user: User | None,
    lines: list[DocumentLine],
    location: Location | None = None,
    note: str = "",
) -> SupplierReturn:
    """Send goods of a purchase order back to its supplier (SR-nnnnn): per line an item of the
    order, at most what it received less what went back before (a 400 naming the line), and
    only available stock at `location` (default the order's; a lot-tracked line may name its
    lot, else FEFO). One OUT per line, all or none, under the order's lock."""

    def take(*, order, lines, reference, location, user, note):
        return take_out_of_stock(
            lines=lines,
            location=location,
            source=Source.SUPPLIER_RETURN,
            reference=reference,
            user=user,
            note=note,
            field="lines",
        )

    return orders.record_document(
        SUPPLIER_RETURN,
        order=order,
        user=user,
        lines=lines,
        move_stock=take,
        location=location,
        note=note,
    )
