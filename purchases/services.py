"""Purchase orders: status moves and edits; receipts add what arrives, line by line, and
receiving by status adds the rest: no line is ever received more than was ordered."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import BrokenRule, Conflict
from core.numbering import next_number
from orders import services as orders
from purchases.models import (
    PurchaseOrder,
    PurchaseOrderItem,
    Receipt,
    ReceiptLine,
    SupplierReturn,
    SupplierReturnLine,
)
from stock.models import StockMovement
from stock.services import StockLine, add_to_stock, take_out_of_stock

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status


def _receive(order: PurchaseOrder, user) -> list[str]:
    """Reaching `received` by status adds every line's remaining quantity at the order's
    location, one IN movement each, all in one transaction. Lot-tracked lines need a receipt,
    which names the lot."""
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
    add_to_stock(
        lines=[
            StockLine(item.product_id, item.remaining, unit_cost=item.unit_cost)
            for item in items
            if item.remaining
        ],
        location=order.location,
        source=StockMovement.Source.PURCHASE_ORDER,
        reference=order.reference,
        user=user,
    )
    order.items.update(received_quantity=F("quantity"))
    order.received_at = timezone.now()
    return ["received_at"]


def record_receipt(
    *, order: PurchaseOrder, user, lines: list[dict], location=None, note: str = ""
) -> Receipt:
    """Receive what arrived: per line an item of this order, a quantity no larger than what
    is still to come (a 400 naming the line), its lot for a lot-tracked product. One IN per
    line at `location` (default the order's); the order becomes `partially_received`, or
    `received` once every line is complete. Under the order's lock, so concurrent receipts
    never receive more than was ordered."""
    with transaction.atomic():
        order = orders.lock_order(order)
        if order.status not in PurchaseOrder.RECEIVABLE:
            raise Conflict(f"A {order.status} purchase order takes no receipts.")
        items, wanted = orders.document_lines(
            order, lines, left=lambda item: item.remaining, verb="receive", left_as="still to come"
        )
        movements = add_to_stock(
            lines=[
                StockLine(
                    items[line["item"]].product_id,
                    line["quantity"],
                    (line.get("lot_code") or "").strip(),
                    line.get("expiration_date"),
                    unit_cost=items[line["item"]].unit_cost,
                )
                for line in lines
            ],
            location=location or order.location,
            source=StockMovement.Source.PURCHASE_ORDER,
            reference=order.reference,
            user=user,
            note=note,
            field="lines",
        )
        for pk, units in wanted.items():
            items[pk].received_quantity += units
        PurchaseOrderItem.objects.bulk_update([items[pk] for pk in wanted], ["received_quantity"])
        receipt = Receipt.objects.create(
            organization_id=order.organization_id,
            purchase_order=order,
            location=movements[0].location,
            note=note,
            created_by=user if getattr(user, "pk", None) else None,
        )
        ReceiptLine.objects.bulk_create(
            ReceiptLine(
                receipt=receipt,
                item_id=line["item"],
                quantity=line["quantity"],
                lot_code=(line.get("lot_code") or "").strip(),
                expiration_date=line.get("expiration_date"),
            )
            for line in lines
        )
        receipt.movements.set(movements)
        complete = all(not item.remaining for item in items.values())
        order.status = Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED
        changed = ["status", "updated_at"]
        if complete:
            order.received_at = timezone.now()
            changed.append("received_at")
        order.save(update_fields=changed)
        return receipt


def _check_edit(order: PurchaseOrder, items_changed: bool, fields: dict) -> None:
    """Items, supplier and location change only while draft, notes and date until received,
    closed or cancelled."""
    if (items_changed or fields.keys() & {"supplier", "location"}) and order.status != Status.DRAFT:
        raise Conflict(
            f"The items and supplier of a {order.status} purchase order cannot be changed."
        )
    if fields.keys() & {"notes", "expected_date"} and order.status in (
        Status.RECEIVED,
        Status.CLOSED,
        Status.CANCELLED,
    ):
        raise Conflict(f"A {order.status} purchase order cannot be edited.")


def _product_cost(product):
    """A line without a unit cost takes the product's expected purchase cost (or none)."""
    return product.cost_price


RULES = orders.Rules(
    model=PurchaseOrder,
    effects={Status.RECEIVED: _receive},
    check_edit=_check_edit,
    gone=GONE,
    default_price=_product_cost,
)


def create_purchase_order(
    *,
    organization,
    user,
    supplier,
    items: list[dict],
    status: str = Status.DRAFT,
    location=None,
    expected_date=None,
    notes: str = "",
) -> PurchaseOrder:
    """Number the order PO-nnnnn and store its lines; the goods arrive at `location` (default:
    the organization's default); created as received, it adds stock too."""
    order = {
        "supplier": supplier,
        "location": location,
        "expected_date": expected_date,
        "notes": notes,
    }
    return orders.create_order(
        RULES, organization=organization, user=user, items=items, status=status, **order
    )


def update_purchase_order(*, order: PurchaseOrder, user, changes: dict) -> PurchaseOrder:
    """Edit the order as its status allows, then move it to a status given in the changes."""
    return orders.update_order(RULES, order=order, user=user, changes=changes)


def record_supplier_return(
    *, order: PurchaseOrder, user, lines: list[dict], location=None, note: str = ""
) -> SupplierReturn:
    """Send goods of a purchase order back to its supplier (SR-nnnnn): per line an item of the
    order, at most what it received less what went back before (a 400 naming the line), and
    only available stock at `location` (default the order's; a lot-tracked line may name its
    lot, else FEFO). One OUT per line, all or none, under the order's lock."""
    with transaction.atomic():
        order = orders.lock_order(order)
        items, wanted = orders.document_lines(
            order,
            lines,
            left=lambda item: item.received_quantity - item.returned_quantity,
            verb="return",
            left_as="received and not returned yet",
        )
        number = next_number(
            organization_id=order.organization_id, kind=SupplierReturn.REFERENCE_PREFIX
        )
        reference = f"{SupplierReturn.REFERENCE_PREFIX}-{number:05d}"
        movements = take_out_of_stock(
            lines=[
                StockLine(
                    items[line["item"]].product_id,
                    line["quantity"],
                    (line.get("lot_code") or "").strip(),
                )
                for line in lines
            ],
            location=location or order.location,
            source=StockMovement.Source.SUPPLIER_RETURN,
            reference=reference,
            user=user,
            note=note,
            field="lines",
        )
        for pk, units in wanted.items():
            items[pk].returned_quantity += units
        PurchaseOrderItem.objects.bulk_update([items[pk] for pk in wanted], ["returned_quantity"])
        returned = SupplierReturn.objects.create(
            organization_id=order.organization_id,
            number=number,
            purchase_order=order,
            location=movements[0].location,
            note=note,
            created_by=user if getattr(user, "pk", None) else None,
        )
        SupplierReturnLine.objects.bulk_create(
            SupplierReturnLine(
                supplier_return=returned,
                item_id=line["item"],
                quantity=line["quantity"],
                lot_code=(line.get("lot_code") or "").strip(),
            )
            for line in lines
        )
        returned.movements.set(movements)
        return returned
