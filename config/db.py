"""Database helpers shared by the services."""

from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction


@contextmanager
def foreign_keys_checked_at_once():
    """Check foreign keys at each statement (in a savepoint), not at COMMIT.

    Django creates PostgreSQL foreign keys INITIALLY DEFERRED, so a row inserted while the row
    it refers to is being deleted fails only at COMMIT, as a 500. Checked at once, the check
    takes its FOR KEY SHARE lock on the referenced row immediately: a concurrent delete waits
    for this transaction, or this statement fails with an IntegrityError the service answers.
    """
    on_postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if on_postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield
        if on_postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    """The referenced row is gone (SQLSTATE 23503)."""
    return getattr(exc.__cause__, "sqlstate", None) == "23503"


@contextmanager
def references_checked(*, message: str, field: str | None = None):
    """A transaction whose foreign keys are checked at each statement; a row it refers to that
    a concurrent request deleted is a DomainError (400) naming `field`, not a 500 at COMMIT."""
    from config.errors import DomainError

    try:
        with transaction.atomic(), foreign_keys_checked_at_once():
            yield
    except IntegrityError as exc:
        if is_foreign_key_violation(exc):
            raise DomainError(message, field=field) from exc
        raise
