"""Reorder rules, and the draft purchase orders that replenishment makes from the due ones
(API.md, Replenishment). The orders are made through `purchases.services`, under the
organization's row lock, so that a second run, or two at once, order nothing twice."""

import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction

from core import audit
from core.changes import UNSET, given
from core.dates import local_today
from core.db import lock_row, update_under_lock
from core.errors import BrokenRule, NotFound
from inventory.models import Product
from orders.services import OrderItem
from purchases import services as purchases
from purchases.models import PurchaseOrder
from replenishment.models import ReorderRule
from replenishment.selectors import replenishment_rows
from stock.models import Location
from stock.services import default_location
from suppliers.models import Supplier, SupplierProduct
from users.models import Organization, User

NOTES = "Made by replenishment on {today}: {count} due rule(s)."


def _check(*, organization_id: int, product=None, location=None, supplier=None, low=None,
           high=None) -> None:  # fmt: skip
    """What a rule refers to is the organization's; a product with variations takes no rule;
    the maximum is above the minimum."""
    for name, value in (("product", product), ("location", location), ("supplier", supplier)):
        if value is not None and value.organization_id != organization_id:
            raise BrokenRule(f"The {name} must be the organization's.", field=name)
    if product is not None and product.has_variations:
        raise BrokenRule(
            f"Product {product.sku} has variations: give each variation its own rule.",
            field="product",
        )
    if location is not None and location.is_archived:
        raise BrokenRule(f"Location {location.name} is archived.", field="location")
    if low is not None and high is not None and high <= low:
        raise BrokenRule("Must be above min_quantity.", field="max_quantity")


def _save_rule(rule: ReorderRule, *, update_fields=None) -> ReorderRule:
    try:
        with transaction.atomic():
            rule.save(update_fields=update_fields)
    except IntegrityError:
        taken = (
            ReorderRule.objects.filter(product_id=rule.product_id, location_id=rule.location_id)
            .exclude(pk=rule.pk)
            .exists()
        )
        if taken:
            raise BrokenRule(
                "The product already has a rule at this location.", field="location"
            ) from None
        raise
    return rule


REORDER_RULE_AUDITED = (
    "product", "location", "supplier", "min_quantity", "max_quantity", "snoozed_until",
)  # fmt: skip


def preferred_supplier(product: Product) -> Supplier | None:
    """The supplier of the product's preferred supplier product (None without one)."""
    preferred = (
        SupplierProduct.objects.filter(product=product, is_preferred=True)
        .select_related("supplier")
        .first()
    )
    return preferred.supplier if preferred else None


def create_reorder_rule(
    *,
    organization: Organization,
    product: Product,
    min_quantity: int,
    max_quantity: int,
    location: Location | None = None,
    supplier: Supplier | None = UNSET,
    snoozed_until: datetime.date | None = None,
) -> ReorderRule:
    """One rule per product and location (default: the organization's default location); the
    supplier defaults to the product's preferred supplier product's."""
    location = location or default_location(organization_id=organization.pk)
    if supplier is UNSET:
        supplier = preferred_supplier(product)
    _check(
        organization_id=organization.pk,
        product=product,
        location=location,
        supplier=supplier,
        low=min_quantity,
        high=max_quantity,
    )
    rule = ReorderRule(
        organization=organization,
        product=product,
        location=location,
        supplier=supplier,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        snoozed_until=snoozed_until,
    )
    with transaction.atomic():
        _save_rule(rule)
        audit.created(rule, REORDER_RULE_AUDITED)
    return rule


def update_reorder_rule(
    *,
    rule: ReorderRule,
    product: Product = UNSET,
    location: Location = UNSET,
    supplier: Supplier | None = UNSET,
    min_quantity: int = UNSET,
    max_quantity: int = UNSET,
    snoozed_until: datetime.date | None = UNSET,
) -> ReorderRule:
    """Edit the fields given; the rule stays one per product and location, max above min."""
    changes = given(
        {"product": product, "location": location, "supplier": supplier,
         "min_quantity": min_quantity, "max_quantity": max_quantity,
         "snoozed_until": snoozed_until}
    )  # fmt: skip
    _check(
        organization_id=rule.organization_id,
        product=changes.get("product"),
        location=changes.get("location"),
        supplier=changes.get("supplier"),
        low=changes.get("min_quantity", rule.min_quantity),
        high=changes.get("max_quantity", rule.max_quantity),
    )

    def save(row, *, update_fields):
        if row.max_quantity <= row.min_quantity:  # against the row as it is now, locked
            raise BrokenRule("Must be above min_quantity.", field="max_quantity")
        return _save_rule(row, update_fields=update_fields)

    return update_under_lock(
        rule, changes, save=save, gone="The reorder rule no longer exists.", audit=True
    )


def delete_reorder_rule(*, rule: ReorderRule) -> None:
    with transaction.atomic():
        pk = rule.pk
        rule.delete()
        audit.deleted(rule, object_id=pk)


def create_replenishment_orders(
    *,
    organization: Organization,
    user: User | None,
    location: Location | None = None,
    supplier: Supplier | None = None,
    today: datetime.date | None = None,
) -> list[PurchaseOrder]:
    """One draft purchase order per supplier and location, with a line per due rule of that
    supplier (its suggested quantity, at the supplier product's unit cost, else the product's
    cost price); rules without a supplier, or with no cost known, are left out.

    Under the organization's row lock (SELECT ... FOR NO KEY UPDATE of users_organization),
    taken before what is due is read: a concurrent run waits, then reads the drafts this one
    made as on order, and orders nothing twice. The drafts count as on order, so a second run
    right after makes none."""
    with transaction.atomic():
        if lock_row(Organization.objects, organization.pk) is None:
            raise NotFound("The organization no longer exists.")
        today = today or local_today(organization)
        rows = replenishment_rows(
            organization_id=organization.pk,
            today=today,
            location_id=location.pk if location else None,
            supplier_id=supplier.pk if supplier else None,
            with_sales=False,
        )
        groups: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
        for row in rows:
            if row["supplier"] is not None and row["unit_cost"] is not None:
                groups[(row["supplier_name"], row["supplier"], row["location"])].append(row)
        return purchases.create_draft_orders(
            organization=organization,
            user=user,
            drafts=[
                purchases.DraftOrder(
                    supplier_id=supplier_id,
                    location_id=location_id,
                    items=[
                        OrderItem(_orderable(row), row["suggested_quantity"], row["unit_cost"])
                        for row in rules
                    ],
                    notes=NOTES.format(today=today.isoformat(), count=len(rules)),
                )
                for (_name, supplier_id, location_id), rules in sorted(groups.items())
            ],
        )


def _orderable(row: dict) -> Product:
    """The product of a due rule's row, as an order line takes it: a live product without
    variations (the due rules' are), with its SKU for the messages."""
    return Product(pk=row["product"], sku=row["sku"], is_archived=False, has_variations=False)
