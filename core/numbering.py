"""Gapless, collision-free document numbers per organization (`PO-00012`, `SO-00003`, ...)."""

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from core.models import Counter


def next_number(*, organization_id: int, kind: str) -> int:
    """The organization's next number for `kind`; call it inside the creating transaction.

    The UPDATE locks the counter row until that transaction ends: concurrent creators of the
    same kind queue on it, and a rolled-back creation leaves no gap.
    """
    return reserve_numbers(organization_id=organization_id, kind=kind, count=1)[0]


def reserve_numbers(*, organization_id: int, kind: str, count: int) -> range:
    """The organization's next `count` numbers for `kind`, in one statement (as `next_number`,
    which takes one): the counter moves on by `count`, under its row lock until the creating
    transaction ends."""
    last = _increment(organization_id, kind, count)
    if last is None:
        try:
            with transaction.atomic():
                Counter.objects.create(
                    organization_id=organization_id, kind=kind, last_number=count
                )
            last = count
        except IntegrityError:  # a concurrent first creation made it: queue on it
            last = _increment(organization_id, kind, count)
    return range(last - count + 1, last + 1)


def _increment(organization_id: int, kind: str, count: int) -> int | None:
    """One statement: the counter moved on by `count` and its new value read back (UPDATE ...
    RETURNING, PostgreSQL and SQLite alike); None when the organization has no counter of that
    kind."""
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + %s "
            "WHERE organization_id = %s AND kind = %s RETURNING last_number",
            [count, organization_id, kind],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def reference(prefix: str, number: int) -> str:
    """A document's reference: its prefix and its number on five digits (`PO-00012`)."""
    return f"{prefix}-{number:05d}"


def give_back(*, organization_id: int, kind: str, number: int) -> None:
    """A deleted document hands its number back when it was the last one given, so the next
    document takes it (no gap at the end); a number in the middle stays a gap."""
    Counter.objects.filter(organization_id=organization_id, kind=kind, last_number=number).update(
        last_number=F("last_number") - 1
    )
