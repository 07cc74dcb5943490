"""The mechanics every order follows, the same way for purchases and sales: numbering, the
status table checked under the order's row lock, what each status lets be edited, lines,
creation and editing in one transaction, and the documents recorded against an order (a
receipt, a return). Each order app keeps its own rules (what a move does to stock, what may be
edited when) in its services and passes them in.

Lock order (core.db): the order first, then the counter of a document's numbers, then the
products (stock.services), then their levels.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from core.cache import figures_changed
from core.db import lock_row, references_checked
from core.errors import BrokenRule, Conflict
from core.numbering import give_back, next_number, reference, reserve_numbers
from core.tenancy import recorded_user
from inventory.models import Product
from orders.models import NumberedDocument, Order, OrderDocument, OrderLine
from stock.models import Location, StockMovement
from stock.services import StockLine, default_location, ensure_stock_keeping


@dataclass(frozen=True)
class OrderItem:
    """A line as a client asks for it: a product, a quantity and its price (a purchase line's
    unit cost, a sales line's unit price; None: the product's default)."""

    product: Product
    quantity: int
    price: Decimal | None = None


@dataclass(frozen=True)
class Rules:
    """What one kind of order does its own way: its model; its status table (`actions`: the
    public service that moves an order to each status, e.g. `fulfil_sales_order`; a status it
    does not name is a plain move); what each status lets be edited (`editable`: field names,
    "items" for the lines; anything else asked is refused by `refuse_edit(order, refused)` with a
    Conflict); the 400's message when something it refers to was deleted meanwhile; and the
    price a line takes when it names none (`default_prices(order, products)`: the prices by
    product id for this order, read at once, e.g. the order's supplier's; then
    `default_price(product)`)."""

    model: type[Order]
    actions: dict[str, Callable[..., Order]]
    editable: dict[str, frozenset[str]]
    refuse_edit: Callable[[Order, set[str]], Conflict]
    gone: str
    default_price: Callable[[Product], Decimal | None] | None = None
    default_prices: Callable[[Order, list[Product]], dict[int, Decimal]] | None = None


def lock_order(order: Order) -> Order:
    """SELECT ... FOR NO KEY UPDATE the order (with its location, unlocked, for the stock it
    moves): its status moves happen one at a time. An order this transaction created (see
    `create_order`) is returned as it is: no other transaction can see it before the commit,
    so it is as good as locked, and reading it again is a query for nothing."""
    if getattr(order, "_created_in_this_transaction", False):
        return order
    return lock_row(type(order).objects.select_related("location"), order.pk)


def order_lines(order: Order) -> list:
    """The order's lines in id order: those `write_lines` just stored, else read."""
    return sorted(order.items.all(), key=lambda line: line.pk)


def needs_move(order: Order, status: str) -> bool:
    """Whether `status` is a move to make: False when the order already has it and may be sent
    it again without effect (`RESENDABLE`); a move its TRANSITIONS table lacks is a 409."""
    if status == order.status and status in order.RESENDABLE:
        return False
    if status not in order.TRANSITIONS[order.status]:
        raise Conflict(f"A {order.status} {order.NOUN} cannot become {status}.")
    return True


def change_status(
    *, order: Order, status: str, user, effect: Callable[[Order, object], list[str]] | None = None
) -> Order:
    """Move the order to `status` by its TRANSITIONS table, under its row lock (in the caller's
    transaction, or its own): `effect(order, user)` is what reaching it does (receiving adds
    stock, fulfilling takes it; it returns the fields it set). Returns the locked order."""
    with transaction.atomic(savepoint=False):  # a step of the caller's transaction, if any
        order = lock_order(order)
        if needs_move(order, status):
            changed = effect(order, user) if effect else []
            order.status = status
            order.save(update_fields=["status", *changed, "updated_at"])
    return order


def move(rules: Rules, *, order: Order, status: str, user) -> Order:
    """Move the order to `status` through its status table: the named action, or a plain move."""
    action = rules.actions.get(status)
    if action is not None:
        return action(order=order, user=user)
    return change_status(order=order, status=status, user=user)


def editable_fields(rules: Rules, order: Order) -> frozenset[str]:
    """What the order's status lets be edited ("items": its lines)."""
    return rules.editable.get(order.status, frozenset())


def write_lines(
    *, order: Order, items: list[OrderItem], default_price=None, default_prices=None
) -> None:
    """Store the order's lines (`write_orders_lines` for one order)."""
    write_orders_lines([(order, items)], default_price=default_price, default_prices=default_prices)


def write_orders_lines(
    orders: list[tuple[Order, list[OrderItem]]], *, default_price=None, default_prices=None
) -> None:
    """Store the orders' lines (stock-keeping products only) in one INSERT, however many
    orders; a line without a price takes `default_prices(order, products)[product.pk]` when
    there is one (a query for an order only when it has such lines), else
    `default_price(product)` when given (a 400 naming the lines where there is none)."""
    if not orders:
        return
    line_model = orders[0][0].items.model
    price_field = line_model.PRICE_FIELD
    cache_name = line_model._meta.get_field("order").remote_field.cache_name
    every_line, unpriced = [], []
    for order, items in orders:
        known = {}
        unpriced_products = [item.product for item in items if item.price is None]
        if default_prices is not None and unpriced_products:
            known = default_prices(order, unpriced_products)
        lines = []
        for position, item in enumerate(items):
            ensure_stock_keeping(product=item.product, field="items")
            price = item.price
            if price is None:
                price = known.get(item.product.pk)
            if price is None and default_price is not None:
                price = default_price(item.product)
            if price is None:
                unpriced.append(
                    f"Line {position + 1} ({item.product.sku}): give a {price_field}; "
                    "the product has no default."
                )
                continue
            lines.append(
                line_model(
                    order=order, product=item.product, quantity=item.quantity,
                    **{price_field: price},
                )
            )  # fmt: skip
        every_line.extend(lines)
        # The order's lines as stored, as a prefetch would keep them (`order.items.all()`): a
        # status move in the same transaction needs not read them again.
        stored = line_model.objects.filter(order=order)
        stored._result_cache, stored._prefetch_done = lines, True
        order._prefetched_objects_cache = {
            **getattr(order, "_prefetched_objects_cache", {}),
            cache_name: stored,
        }
    if unpriced:
        raise BrokenRule(unpriced, field="items")
    line_model.objects.bulk_create(every_line)


@dataclass(frozen=True)
class NewOrder:
    """An order to create: its model's fields (supplier, location, notes, ...) and its lines."""

    fields: dict
    items: list[OrderItem]


def create_order(
    rules: Rules, *, organization, user, items: list[OrderItem], status: str, fields: dict
):
    """Number the order, store it (with its model's `fields`) and its lines, then move it to
    `status` if that is not its open status: all in one transaction, or nothing is stored."""
    model = rules.model
    with references_checked(message=rules.gone, field="items"):
        (order,) = _store_orders(
            rules, organization=organization, user=user, orders=[NewOrder(fields, items)]
        )
        if status != model.OPEN_STATUS:
            order = move(rules, order=order, status=status, user=user)
        order._created_in_this_transaction = False
    return order


def create_open_orders(rules: Rules, *, organization, user, orders: list[NewOrder]) -> list:
    """Store `orders` in their open status (draft purchase orders, say), numbered in the order
    given, in one transaction and a constant number of queries however many there are: their
    numbers reserved at once (one counter UPDATE), the orders in one INSERT, every line in
    one INSERT (lines with their price given: no default to read)."""
    with references_checked(message=rules.gone, field="items"):
        made = _store_orders(rules, organization=organization, user=user, orders=orders)
        for order in made:
            order._created_in_this_transaction = False
    return made


def _store_orders(rules: Rules, *, organization, user, orders: list[NewOrder]) -> list:
    """Number and store open orders and their lines, in the caller's transaction; each is
    marked as created in it (see `lock_order`)."""
    if not orders:
        return []
    model = rules.model
    numbers = reserve_numbers(
        organization_id=organization.pk, kind=model.REFERENCE_PREFIX, count=len(orders)
    )
    made, default = [], None
    for number, new in zip(numbers, orders, strict=True):
        fields = new.fields
        if fields.get("location") is None and fields.get("location_id") is None:
            default = default or default_location(organization_id=organization.pk)
            fields = {**fields, "location": default}
        order = model(
            organization=organization, number=number, created_by=recorded_user(user), **fields
        )
        order._created_in_this_transaction = True
        made.append(order)
    model.objects.bulk_create(made)
    write_orders_lines(
        [(order, new.items) for order, new in zip(made, orders, strict=True)],
        default_price=rules.default_price,
        default_prices=rules.default_prices,
    )
    return made


def update_order(
    rules: Rules,
    *,
    order: Order,
    user,
    fields: dict,
    items: list[OrderItem] | None = None,
    status: str | None = None,
) -> Order:
    """Edit a locked order's `fields` and replace its lines (`items`, when given) as its status
    allows (`rules.editable`), then move it to `status` when given: one transaction."""
    with references_checked(message=rules.gone, field="items"):
        order = lock_order(order)
        asked = set(fields) | ({"items"} if items is not None else set())
        if refused := asked - editable_fields(rules, order):
            raise rules.refuse_edit(order, refused)
        for name, value in fields.items():
            setattr(order, name, value)
        if fields:
            order.save(update_fields=[*fields, "updated_at"])
        if items is not None:
            order.items.all().delete()
            write_lines(
                order=order,
                items=items,
                default_price=rules.default_price,
                default_prices=rules.default_prices,
            )
        if status is not None:
            order = move(rules, order=order, status=status, user=user)
    return order


def delete_open_order(order: Order) -> None:
    """Only an open order (a draft, a pending order) can be deleted; locked first. The newest
    one hands its number to the next order."""
    with transaction.atomic():
        order = lock_order(order)
        if order.status != order.OPEN_STATUS:
            raise Conflict(f"A {order.status} {order.NOUN} cannot be deleted.")
        order.delete()
        figures_changed(order.organization_id)  # a purchase order's: on order (the alerts)
        give_back(
            organization_id=order.organization_id, kind=order.REFERENCE_PREFIX, number=order.number
        )


# --- Documents recorded against an order ------------------------------------------------------


@dataclass(frozen=True)
class DocumentLine:
    """A line of a receipt or a return: an item (line) of the order by id, a quantity, and the
    lot where one is named (a receipt's new lot has its expiry)."""

    item: int
    quantity: int
    lot_code: str = ""
    expiration_date: datetime.date | None = None


@dataclass(frozen=True)
class Document:
    """One kind of document recorded against an order (a receipt, a return): its model and the
    field naming its order; the order's state it needs (`check(order)` raises a Conflict);
    what each item may still take (`left`, and words for the 400: "3 to return, 2 sold and not
    returned yet"), the item's count its quantities add to (`counter`), and what each of its
    lines stores besides the item and the quantity (`line_values(line, item)`)."""

    model: type[OrderDocument]
    order_field: str
    counter: str
    left: Callable[[OrderLine], int]
    verb: str
    left_as: str
    check: Callable[[Order], None] = lambda order: None
    line_values: Callable[[DocumentLine, OrderLine], dict] = lambda line, item: {}


def record_document(
    kind: Document,
    *,
    order: Order,
    user,
    lines: list[DocumentLine],
    move_stock: Callable[..., list[StockMovement]] | None,
    location: Location | None = None,
    note: str = "",
    values: dict | None = None,
) -> OrderDocument:
    """Record a document of `kind` (with its model's `values`) against the order, under its
    lock: every line naming an item of another order, or asking more than the item may still
    take, is refused at once (a 400 naming the lines); a numbered document takes its number;
    `move_stock(order=, lines=, reference=, location=, user=, note=)` moves the stock (None:
    nothing moves) at `location` (default the order's), with the document's reference (else the
    order's), all or none; the items' counts move on; the document and its lines are stored
    with the movements it made. One transaction: concurrent documents never take more than an
    item allows."""
    lines = [
        DocumentLine(line.item, line.quantity, (line.lot_code or "").strip(), line.expiration_date)
        for line in lines
    ]
    with transaction.atomic():
        order = lock_order(order)
        kind.check(order)
        items, wanted = _wanted(kind, order, lines)
        numbered = {}
        if issubclass(kind.model, NumberedDocument):
            prefix = kind.model.REFERENCE_PREFIX
            numbered["number"] = next_number(organization_id=order.organization_id, kind=prefix)
        location = location or order.location
        movements = []
        if move_stock is not None:
            movements = move_stock(
                order=order,
                lines=[
                    StockLine(
                        items[line.item].product_id,
                        line.quantity,
                        line.lot_code,
                        line.expiration_date,
                        unit_cost=items[line.item].unit_cost,  # an OUT ignores it
                    )
                    for line in lines
                ],
                reference=(
                    reference(kind.model.REFERENCE_PREFIX, numbered["number"])
                    if numbered
                    else order.reference
                ),
                location=location,
                user=user,
                note=note,
            )
        for pk, units in wanted.items():
            setattr(items[pk], kind.counter, getattr(items[pk], kind.counter) + units)
        order.items.model.objects.bulk_update([items[pk] for pk in wanted], [kind.counter])
        document = kind.model.objects.create(
            organization_id=order.organization_id,
            **{kind.order_field: order},
            **numbered,
            location=location,
            note=note,
            created_by=recorded_user(user),
            **(values or {}),
        )
        document_lines = document.lines
        document_lines.model.objects.bulk_create(
            document_lines.model(
                **{document_lines.field.name: document},
                item=items[line.item],
                quantity=line.quantity,
                **kind.line_values(line, items[line.item]),
            )
            for line in lines
        )
        document.movements.set(movements)
        return document


def _wanted(kind: Document, order: Order, lines: list[DocumentLine]):
    """The locked order's items by id, and what the lines ask of each, added up (an item may
    come twice); a BrokenRule naming every line that names another order's item or asks more
    than the item may still take ("Line 2 (MILK): 3 to return, 2 sold and not returned yet.")."""
    items = {item.pk: item for item in order.items.select_related("product")}
    wanted: dict[int, int] = defaultdict(int)
    errors = []
    for position, line in enumerate(lines):
        item = items.get(line.item)
        if item is None:
            errors.append(f"Line {position + 1}: item {line.item} is not on this order.")
            continue
        wanted[item.pk] += line.quantity
        if wanted[item.pk] > kind.left(item):
            errors.append(
                f"Line {position + 1} ({item.product.sku}): {wanted[item.pk]} to {kind.verb}, "
                f"{kind.left(item)} {kind.left_as}."
            )
    if errors:
        raise BrokenRule(errors, field="lines")
    return items, wanted
