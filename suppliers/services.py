"""Rules about suppliers and what they sell us (supplier products)."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core import audit
from core.cache import figures_changed
from core.changes import UNSET, given
from core.db import (
    foreign_keys_checked_at_once,
    lock_all_in_id_order,
    one_at_a_time,
    update_under_lock,
)
from core.errors import BrokenRule, Conflict
from suppliers.models import Supplier, SupplierProduct


def _save_supplier(supplier: Supplier, *, update_fields=None) -> Supplier:
    try:
        with transaction.atomic():
            supplier.save(update_fields=update_fields)
    except IntegrityError:
        taken = (
            Supplier.objects.filter(organization_id=supplier.organization_id, name=supplier.name)
            .exclude(pk=supplier.pk)
            .exists()
        )
        if taken:
            raise BrokenRule("A supplier with this name already exists.", field="name") from None
        raise
    return supplier


SUPPLIER_AUDITED = ("name", "contact_email", "phone_number", "address")


def create_supplier(
    *,
    organization,
    name: str,
    contact_email: str = "",
    phone_number: str = "",
    address: str = "",
) -> Supplier:
    """Supplier names are unique within the organization."""
    supplier = Supplier(
        organization=organization,
        name=name,
        contact_email=contact_email,
        phone_number=phone_number,
        address=address,
    )
    with transaction.atomic():
        _save_supplier(supplier)
        audit.created(supplier, SUPPLIER_AUDITED)
    return supplier


def update_supplier(
    *,
    supplier: Supplier,
    name: str = UNSET,
    contact_email: str = UNSET,
    phone_number: str = UNSET,
    address: str = UNSET,
) -> Supplier:
    """Edit a supplier (the fields given); its name stays unique within the organization."""
    changes = given(
        {"name": name, "contact_email": contact_email, "phone_number": phone_number,
         "address": address}
    )  # fmt: skip
    return update_under_lock(
        supplier, changes, save=_save_supplier, gone="The supplier no longer exists.", audit=True
    )


def delete_supplier(*, supplier: Supplier) -> None:
    """Products lose the link to a deleted supplier; one that orders refer to stays (409).

    Its products are locked in id order first, as the ledger locks them. Foreign keys are
    checked at the DELETE rather than at COMMIT (Django makes them deferred), so an order or a
    product that a concurrent request linked to the supplier meanwhile is a 409, never a 500.
    """
    message = "Purchase orders refer to this supplier; it cannot be deleted."
    try:
        with foreign_keys_checked_at_once():
            lock_all_in_id_order(supplier.products.all())  # as the ledger locks products
            supplier.products.update(supplier=None, updated_at=timezone.now())
            pk = supplier.pk
            supplier.delete()
            audit.deleted(supplier, object_id=pk)
            figures_changed(supplier.organization_id)  # products' rows lost the link
    except ProtectedError:
        raise Conflict(message) from None
    except IntegrityError:
        if supplier.purchase_orders.exists():
            raise Conflict(message) from None
        raise Conflict("A product was linked to this supplier meanwhile; try again.") from None


# --- What a supplier sells us of a product -----------------------------------------------------


def _one_editor(organization_id: int):
    """The organization's supplier products are written one transaction at a time (a
    transaction-level advisory lock): un-preferring the others and preferring one never
    interleave with another edit of them."""
    return one_at_a_time(f"suppliers.supplier_products:{organization_id}")


def _unprefer_others(row: SupplierProduct) -> None:
    """The product's other preferred supplier product (one at most) is preferred no more, with
    an audit row of its own (the same change as a PATCH of its `is_preferred`)."""
    others = list(
        SupplierProduct.objects.filter(product_id=row.product_id, is_preferred=True)
        .exclude(pk=row.pk)
        .select_related("supplier", "product")  # their names, for the audit rows
    )
    if not others:
        return
    SupplierProduct.objects.filter(pk__in=[other.pk for other in others]).update(
        is_preferred=False, updated_at=timezone.now()
    )
    audit.record_many(
        organization_id=row.organization_id,
        action=audit.Action.UPDATE,
        rows=[(other, {"is_preferred": [True, False]}) for other in others],
    )


def _save_supplier_product(row: SupplierProduct, *, update_fields=None) -> SupplierProduct:
    """Save a supplier product inside `_one_editor`: setting `is_preferred` clears it on the
    product's others first (one preferred: the partial unique index backs it); a second for the
    same product and supplier is a 400."""
    if row.is_preferred:
        _unprefer_others(row)
    try:
        with transaction.atomic():
            row.save(update_fields=update_fields)
    except IntegrityError:
        taken = (
            SupplierProduct.objects.filter(product_id=row.product_id, supplier_id=row.supplier_id)
            .exclude(pk=row.pk)
            .exists()
        )
        if taken:
            raise BrokenRule(
                "This supplier already has a supplier product for this product.", field="supplier"
            ) from None
        raise
    return row


SUPPLIER_PRODUCT_AUDITED = (
    "supplier", "product", "supplier_sku", "pack_size", "unit_cost", "lead_time_days",
    "minimum_order_quantity", "is_preferred",
)  # fmt: skip


def create_supplier_product(
    *,
    organization,
    supplier: Supplier,
    product,
    supplier_sku: str = "",
    pack_size: int = 1,
    unit_cost: Decimal,
    lead_time_days: int = 0,
    minimum_order_quantity: int = 0,
    is_preferred: bool = False,
) -> SupplierProduct:
    """One per product and supplier; preferring it un-prefers the product's others."""
    if supplier.organization_id != organization.pk or product.organization_id != organization.pk:
        raise BrokenRule("The supplier and the product must be the organization's.")
    row = SupplierProduct(
        organization=organization,
        supplier=supplier,
        product=product,
        supplier_sku=supplier_sku,
        pack_size=pack_size,
        unit_cost=unit_cost,
        lead_time_days=lead_time_days,
        minimum_order_quantity=minimum_order_quantity,
        is_preferred=is_preferred,
    )
    with _one_editor(organization.pk):
        _save_supplier_product(row)
        audit.created(row, SUPPLIER_PRODUCT_AUDITED)
    return row


def update_supplier_product(
    *,
    supplier_product: SupplierProduct,
    supplier: Supplier = UNSET,
    product=UNSET,
    supplier_sku: str = UNSET,
    pack_size: int = UNSET,
    unit_cost: Decimal = UNSET,
    lead_time_days: int = UNSET,
    minimum_order_quantity: int = UNSET,
    is_preferred: bool = UNSET,
) -> SupplierProduct:
    """Edit the fields given; preferring it un-prefers the product's others."""
    changes = given(
        {"supplier": supplier, "product": product, "supplier_sku": supplier_sku,
         "pack_size": pack_size, "unit_cost": unit_cost, "lead_time_days": lead_time_days,
         "minimum_order_quantity": minimum_order_quantity, "is_preferred": is_preferred}
    )  # fmt: skip
    for name in ("supplier", "product"):
        if name in changes and changes[name].organization_id != supplier_product.organization_id:
            raise BrokenRule(f"The {name} must be the organization's.", field=name)
    with _one_editor(supplier_product.organization_id):
        return update_under_lock(
            supplier_product,
            changes,
            save=_save_supplier_product,
            gone="The supplier product no longer exists.",
            audit=True,
        )


def delete_supplier_product(*, supplier_product: SupplierProduct) -> None:
    with transaction.atomic():
        pk = supplier_product.pk
        supplier_product.delete()
        audit.deleted(supplier_product, object_id=pk)
