"""Rules about suppliers."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from config.errors import Conflict, DomainError
from suppliers.models import Supplier


def _save_supplier(supplier: Supplier) -> Supplier:
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError:
        taken = (
            Supplier.objects.filter(organization_id=supplier.organization_id, name=supplier.name)
            .exclude(pk=supplier.pk)
            .exists()
        )
        if taken:
            raise DomainError("A supplier with this name already exists.", field="name") from None
        raise
    return supplier


def create_supplier(*, organization, **fields) -> Supplier:
    """Supplier names are unique within the organization."""
    return _save_supplier(Supplier(organization=organization, **fields))


def update_supplier(*, supplier: Supplier, **changes) -> Supplier:
    """Edit a supplier; its name stays unique within the organization."""
    for field, value in changes.items():
        setattr(supplier, field, value)
    return _save_supplier(supplier)


def delete_supplier(*, supplier: Supplier) -> None:
    """Products lose the link to a deleted supplier; one that orders refer to stays (409)."""
    try:
        with transaction.atomic():
            supplier.delete()
    except ProtectedError:
        raise Conflict("Purchase orders refer to this supplier; it cannot be deleted.") from None
