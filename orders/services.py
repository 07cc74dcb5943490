"""The mechanics every order follows, the same way for purchases and sales: numbering, the
status table checked under the order's row lock, lines, creation and editing in one
transaction. Each order app keeps its own rules (what a move does to stock, what may be
edited when) in its services and passes them in."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from core.db import lock_row, references_checked
from core.errors import BrokenRule, Conflict
from core.numbering import give_back, next_number
from orders.models import Order
from stock.services import default_location, ensure_stock_keeping


@dataclass(frozen=True)
class Rules:
    """What one kind of order does its own way: its model; what reaching a status does to the
    locked order (`effects[status](order, user)`: receiving adds stock, fulfilling takes it;
    it returns the fields it set); what its status lets be edited (`check_edit(order,
    items_changed, fields)` raises a Conflict); the 400's message when something it refers to
    was deleted meanwhile; and the price a line takes when it names none."""

    model: type[Order]
    effects: dict[str, Callable[[Order, object], list[str]]]
    check_edit: Callable[[Order, bool, dict], None]
    gone: str
    default_price: Callable | None = None


def lock_order(order: Order) -> Order:
    """SELECT ... FOR NO KEY UPDATE the order (with its location, unlocked, for the stock it
    moves): its status moves happen one at a time."""
    return lock_row(type(order).objects.select_related("location"), order.pk)


def needs_move(order: Order, status: str) -> bool:
    """Whether `status` is a move to make: False when the order already has it and may be sent
    it again without effect (`RESENDABLE`); a move its TRANSITIONS table lacks is a 409."""
    if status == order.status and status in order.RESENDABLE:
        return False
    if status not in order.TRANSITIONS[order.status]:
        raise Conflict(f"A {order.status} {order.NOUN} cannot become {status}.")
    return True


def move(rules: Rules, *, order: Order, status: str, user) -> None:
    """Move a locked order to `status` by its TRANSITIONS table, with that status's effect."""
    if not needs_move(order, status):
        return
    effect = rules.effects.get(status)
    changed = effect(order, user) if effect else []
    order.status = status
    order.save(update_fields=["status", *changed, "updated_at"])


def write_lines(*, order: Order, items: list[dict], default_price=None) -> None:
    """Store the order's lines (stock-keeping products only) in one INSERT; a line without a
    price takes `default_price(product)` when given (a 400 naming the lines where there is
    none)."""
    line_model = order.items.model
    price_field = line_model.PRICE_FIELD
    lines, unpriced = [], []
    for position, item in enumerate(items):
        ensure_stock_keeping(product=item["product"], field="items")
        price = item.get(price_field)
        if price is None and default_price is not None:
            price = default_price(item["product"])
        if price is None:
            unpriced.append(
                f"Line {position + 1} ({item['product'].sku}): give a {price_field}; "
                "the product has no default."
            )
            continue
        lines.append(
            line_model(
                order=order,
                product=item["product"],
                quantity=item["quantity"],
                **{price_field: price},
            )
        )
    if unpriced:
        raise BrokenRule(unpriced, field="items")
    line_model.objects.bulk_create(lines)


def document_lines(order: Order, lines: list[dict], *, left, verb: str, left_as: str):
    """The locked order's items by id, and what `lines` (of a receipt or a return: `item`,
    `quantity`) ask of each, added up (an item may come twice). Every line naming an item of
    another order, or asking more than `left(item)`, is refused at once: a BrokenRule naming
    the lines ("Line 2 (MILK): 3 to return, 2 sold and not returned yet.")."""
    items = {item.pk: item for item in order.items.select_related("product")}
    wanted: dict[int, int] = defaultdict(int)
    errors = []
    for position, line in enumerate(lines):
        item = items.get(line["item"])
        if item is None:
            errors.append(f"Line {position + 1}: item {line['item']} is not on this order.")
            continue
        wanted[item.pk] += line["quantity"]
        if wanted[item.pk] > left(item):
            errors.append(
                f"Line {position + 1} ({item.product.sku}): {wanted[item.pk]} to {verb}, "
                f"{left(item)} {left_as}."
            )
    if errors:
        raise BrokenRule(errors, field="lines")
    return items, wanted


def create_order(rules: Rules, *, organization, user, items: list[dict], status: str, **fields):
    """Number the order, store it and its lines, then move it to `status` if that is not its
    open status: all in one transaction, or nothing is stored."""
    model = rules.model
    with references_checked(message=rules.gone, field="items"):
        if fields.get("location") is None:
            fields["location"] = default_location(organization_id=organization.pk)
        order = model.objects.create(
            organization=organization,
            number=next_number(organization_id=organization.pk, kind=model.REFERENCE_PREFIX),
            created_by=user if getattr(user, "pk", None) else None,
            **fields,
        )
        write_lines(order=order, items=items, default_price=rules.default_price)
        if status != model.OPEN_STATUS:
            move(rules, order=order, status=status, user=user)
    return order


def update_order(rules: Rules, *, order: Order, user, changes: dict) -> Order:
    """Edit a locked order as its status allows, replace its lines if given, then apply a
    status move given in the changes: one transaction."""
    changes = dict(changes)
    status = changes.pop("status", None)
    items = changes.pop("items", None)
    with references_checked(message=rules.gone, field="items"):
        order = lock_order(order)
        rules.check_edit(order, items is not None, changes)
        for field, value in changes.items():
            setattr(order, field, value)
        if changes:
            order.save(update_fields=[*changes, "updated_at"])
        if items is not None:
            order.items.all().delete()
            write_lines(order=order, items=items, default_price=rules.default_price)
        if status is not None:
            move(rules, order=order, status=status, user=user)
    return order


def delete_open_order(order: Order) -> None:
    """Only an open order (a draft, a pending order) can be deleted; locked first. The newest
    one hands its number to the next order."""
    with transaction.atomic():
        order = lock_order(order)
        if order.status != order.OPEN_STATUS:
            raise Conflict(f"A {order.status} {order.NOUN} cannot be deleted.")
        order.delete()
        give_back(
            organization_id=order.organization_id, kind=order.REFERENCE_PREFIX, number=order.number
        )
