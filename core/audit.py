"""The audit trail (DESIGN rule 11, API.md Audit trail): who changed what.

A service that changes what money or access depend on calls `record(...)` in its own
transaction, with each field's old and new value (`diff`). Who did it is the request's user
(the API's or the admin's: `AuditUserMiddleware` keeps the request, and DRF sets its user on
it once it has authenticated), or the `user` a service is given, or nobody (a task, a command:
the system). Passwords are never values: a password change records only that it changed.

Signals on `save()` (django-auditlog, django-simple-history) would miss our set-based writes
(`update()`, hand-built UPDATEs), so the services write the rows themselves.
"""

import contextvars
import datetime
import decimal
import uuid

from django.db import models, transaction
from django.utils import timezone

from core.bulk import insert_rows
from core.models import AuditEntry

Action = AuditEntry.Action
PASSWORD_CHANGED = "(changed)"

_request = contextvars.ContextVar("audit_request", default=None)


class AuditUserMiddleware:
    """Keep the request for the audit: its user is read when a row is written (DRF sets the
    authenticated user on the Django request, the admin's session user is there already)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_request():
    """The request being served (None outside one)."""
    return _request.get()


def acting_user():
    """The signed-in user of the request being served, None outside a request or anonymous."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "pk", None) else None


def value(field_value):
    """A field's value as the trail keeps it (JSON): money as its string, dates ISO, related
    objects by id."""
    if isinstance(field_value, models.Model):
        return field_value.pk
    if isinstance(field_value, decimal.Decimal):
        return str(field_value)
    if isinstance(field_value, datetime.date | datetime.datetime):
        return field_value.isoformat()
    if isinstance(field_value, uuid.UUID):
        return str(field_value)
    return field_value


def snapshot(instance: models.Model, fields) -> dict:
    """The fields' values now (foreign keys by id, without loading the related row)."""
    result = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        result[name] = value(getattr(instance, attname))
    return result


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    return {name: [before.get(name), new] for name, new in after.items() if before.get(name) != new}


def record(
    *,
    organization_id: int,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    object_repr: str | None = None,
    changes: dict | None = None,
    user=None,
) -> AuditEntry | None:
    """Append one row in the caller's transaction. An update that changed nothing records
    nothing. `user`: who did it when it is not the request's user (None: the request's)."""
    if organization_id is None:  # a platform superuser's own account: no organization's trail
        return None
    if action == Action.UPDATE and not changes:
        return None
    user = user if getattr(user, "pk", None) else acting_user()
    with transaction.atomic(savepoint=False):
        return AuditEntry.objects.create(
            organization_id=organization_id,
            user_id=user.pk if user else None,
            username=user.get_username() if user else "",
            action=action,
            object_type=object_type or obj._meta.model_name,
            object_id=object_id if object_id is not None else obj.pk,
            object_repr=(object_repr if object_repr is not None else str(obj))[:255],
            changes=changes or {},
        )


def created(obj: models.Model, fields) -> AuditEntry | None:
    """The `create` row of a new object: its audited fields that have a value."""
    return record(
        organization_id=obj.organization_id,
        action=Action.CREATE,
        obj=obj,
        changes=diff({}, snapshot(obj, fields)),
    )


def deleted(obj: models.Model, *, object_id: int | None = None, action: str = Action.DELETE):
    """The `delete` row of an object (or `archive`, where it was archived instead). After
    `obj.delete()` Django has cleared its id: give the one it had as `object_id`."""
    return record(organization_id=obj.organization_id, action=action, obj=obj, object_id=object_id)


def record_many(
    *, organization_id: int, action: str, rows: list[tuple[models.Model, dict]], user=None
) -> None:
    """Append one row per (object, changes) in one INSERT (a bulk write: an import); updates
    that changed nothing record nothing."""
    if organization_id is None:
        return
    user = user if getattr(user, "pk", None) else acting_user()
    now = timezone.now()
    user_id, username = (user.pk, user.get_username()) if user else (None, "")
    rows = [(obj, changes) for obj, changes in rows if changes or action != Action.UPDATE]
    entries = [
        AuditEntry(
            organization_id=organization_id,
            created_at=now,
            user_id=user_id,
            username=username,
            action=action,
            object_type=obj._meta.model_name,
            object_id=obj.pk,
            object_repr=str(obj)[:255],
            changes=changes,
        )
        for obj, changes in rows
    ]
    insert_rows(entries)  # by COPY for an import's many
