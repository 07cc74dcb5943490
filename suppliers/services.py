"""Rules about suppliers."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core import audit
from core.cache import figures_changed
from core.changes import UNSET, given
from core.db import foreign_keys_checked_at_once, lock_all_in_id_order, update_under_lock
from core.errors import BrokenRule, Conflict
from suppliers.models import Supplier


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
        audit.record(
            organization_id=supplier.organization_id,
            action=audit.Action.CREATE,
            obj=supplier,
            changes=audit.diff({}, audit.snapshot(supplier, SUPPLIER_AUDITED)),
        )
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
            audit.record(
                organization_id=supplier.organization_id,
                action=audit.Action.DELETE,
                object_type="supplier",
                object_id=pk,
                object_repr=str(supplier),
            )
            figures_changed(supplier.organization_id)  # products' rows lost the link
    except ProtectedError:
        raise Conflict(message) from None
    except IntegrityError:
        if supplier.purchase_orders.exists():
            raise Conflict(message) from None
        raise Conflict("A product was linked to this supplier meanwhile; try again.") from None
