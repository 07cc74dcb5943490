"""Locations (where stock is kept: one default per organization) and lots (a lot's expiry)."""

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Min, ProtectedError, Sum
from django.utils import timezone

from core import audit
from core.cache import figures_changed
from core.changes import UNSET, given
from core.db import foreign_keys_checked_at_once, lock_in_id_order, lock_row, update_under_lock
from core.errors import BrokenRule, Conflict, NotFound
from inventory.models import Product
from stock.models import Location, Lot
from stock.services.errors import InvalidStockChange
from stock.services.locks import lock_products

DEFAULT_LOCATION_NAME = "Main"


# --- Locations --------------------------------------------------------------------------------


def default_location(*, organization_id: int) -> Location:
    """The organization's default location; `Main` is made for an organization that has none
    (registration makes it; organizations made another way get it on first use)."""
    location = Location.objects.filter(organization_id=organization_id, is_default=True).first()
    if location is not None:
        return location
    try:
        with transaction.atomic():
            return Location.objects.create(
                organization_id=organization_id, name=DEFAULT_LOCATION_NAME, is_default=True
            )
    except IntegrityError:  # made meanwhile (or `Main` is taken by a non-default location)
        location = Location.objects.filter(organization_id=organization_id, is_default=True)
        return location.first() or Location.objects.get(
            organization_id=organization_id, name__iexact=DEFAULT_LOCATION_NAME
        )


def _location_name_error(location: Location) -> BrokenRule | None:
    for field_name, lookup in (("name", "name__iexact"), ("code", "code")):
        value = getattr(location, field_name)
        taken = (
            value
            and Location.objects.filter(organization_id=location.organization_id, **{lookup: value})
            .exclude(pk=location.pk)
            .exists()
        )
        if taken:
            return BrokenRule(
                f"A location with this {field_name} already exists.", field=field_name
            )
    return None


def _save_location(location: Location, *, update_fields=None) -> Location:
    try:
        with transaction.atomic():
            if location.is_default:  # exactly one default: this one takes it over
                Location.objects.filter(
                    organization_id=location.organization_id, is_default=True
                ).exclude(pk=location.pk).update(is_default=False, updated_at=timezone.now())
            location.save(update_fields=update_fields)
    except IntegrityError:
        if error := _location_name_error(location):
            raise error from None
        raise
    return location


def _lock_locations(organization_id: int) -> None:
    """Location edits of one organization queue here (the default moves between them)."""
    lock_in_id_order(Location.objects.filter(organization_id=organization_id))


def create_location(
    *, organization, name: str, code: str | None = None, address: str = "", is_default=False
) -> Location:
    """A new place to keep stock; names (case-insensitively) and codes are unique."""
    with transaction.atomic():
        _lock_locations(organization.pk)
        location = Location(
            organization=organization,
            name=name,
            code=code or None,
            address=address,
            is_default=is_default,
        )
        _save_location(location)
        audit.record(
            organization_id=location.organization_id,
            action=audit.Action.CREATE,
            obj=location,
            changes=audit.diff(
                {}, audit.snapshot(location, ("name", "code", "address", "is_default"))
            ),
        )
        return location


def update_location(
    *,
    location: Location,
    name: str = UNSET,
    code: str | None = UNSET,
    address: str = UNSET,
    is_default: bool = UNSET,
) -> Location:
    """Rename, recode or readdress a location, or make it the default (the old default stops
    being one). The default cannot stop being the default except by another taking over."""
    changes = given({"name": name, "code": code, "address": address, "is_default": is_default})
    with transaction.atomic():
        _lock_locations(location.organization_id)
        current = lock_row(Location.objects, location.pk)
        if current is None or current.is_archived:
            raise NotFound("The location no longer exists.")
        if changes.get("is_default") is False and current.is_default:
            raise BrokenRule("Make another location the default instead.", field="is_default")
        if "code" in changes:
            changes["code"] = changes["code"] or None
        return update_under_lock(
            current,
            changes,
            save=_save_location,
            gone="The location no longer exists.",
            audit=True,
        )


def delete_location(*, location: Location) -> None:
    """The default location, or one holding or promising stock, stays (409); one with history
    (levels, movements, orders or transfers refer to it) is archived and refuses new stock; one
    without history is removed."""
    with transaction.atomic():
        _lock_locations(location.organization_id)
        current = lock_row(Location.objects, location.pk)
        if current is None or current.is_archived:
            raise NotFound("The location no longer exists.")
        if current.is_default:
            raise Conflict("The default location cannot be deleted; make another the default.")
        units = current.levels.aggregate(units=Sum("quantity"), promised=Sum("allocated"))
        if units["units"] or units["promised"]:
            raise Conflict(
                f"{current.name} still holds {units['units'] or 0} unit(s); transfer them or "
                "write them off first."
            )
        pk = current.pk
        try:
            with foreign_keys_checked_at_once():
                current.delete()
            action = audit.Action.DELETE
        except (ProtectedError, IntegrityError):
            Location.objects.filter(pk=pk).update(is_archived=True, updated_at=timezone.now())
            action = audit.Action.ARCHIVE
        audit.deleted(current, object_id=pk, action=action)


def usable_location(location: Location | None, *, organization_id: int, field: str) -> Location:
    """The location a change names (the default one when none), if it may take stock: the
    organization's own and not archived."""
    if location is None:
        return default_location(organization_id=organization_id)
    if location.organization_id != organization_id:
        raise InvalidStockChange("The location is another organization's.", field=field)
    if location.is_archived:
        raise InvalidStockChange(f"Location {location.name} is archived.", field=field)
    return location


# --- Lots --------------------------------------------------------------------------------------


def update_lot(*, lot: Lot, expiration_date: datetime.date | None) -> Lot:
    """Correct a lot's expiry (its product's earliest expiry follows)."""
    with transaction.atomic():
        lock_products([lot.product_id])
        current = lock_row(Lot.objects, lot.pk)
        if current is None:
            raise NotFound("The lot no longer exists.")
        current.expiration_date = expiration_date
        current.save(update_fields=["expiration_date"])
        refresh_earliest_expiry([current.product_id])
        figures_changed(current.organization_id)
    return current


def refresh_earliest_expiry(product_ids: Iterable[int]) -> None:
    """A lot-tracked product's expiry is the earliest among its lots that hold stock."""
    for product_id in product_ids:
        earliest = Lot.objects.filter(product_id=product_id, quantity__gt=0).aggregate(
            earliest=Min("expiration_date")
        )["earliest"]
        Product.objects.filter(pk=product_id, track_lots=True).update(expiration_date=earliest)
