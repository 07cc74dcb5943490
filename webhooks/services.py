"""Webhooks: subscriptions (admin only), and the delivery of the outbox's events to them.

- The webhooks read the outbox (`core.events`) with a cursor of their own: `fan_out()` turns
  each new event into one `Delivery` per active webhook of its organization that subscribes to
  its type (only its organization's: tenancy), in the cursor's transaction.
- `deliver(delivery_id=...)` claims a pending delivery whose time has come, POSTs the signed
  event with no transaction open and no row locked, and records the answer: delivered, or
  tried again after a growing delay (`RETRY_DELAYS`, about 24 hours in all, at most
  `MAX_ATTEMPTS` tries), then failed. A receiver that is slow or dead holds only its own
  delivery, for at most WEBHOOK_TIMEOUT seconds.
- Tasks (webhooks.tasks) do both after each commit that wrote events; the periodic sweep
  (beat, every minute) does them too, so events written while Redis or the workers were down
  go out once back. This module queues nothing itself: `deliveries_ready` says, after commit,
  which deliveries a ping or a redelivery made.
"""

import datetime
import json
import logging
from collections import defaultdict
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import audit
from core.changes import UNSET, given
from core.db import delete_in_batches
from core.errors import BrokenRule, Conflict
from core.events import consume, emit, timestamp
from core.models import Event
from webhooks import secrets, sender
from webhooks.models import EVENT_TYPES, PING, Delivery, Webhook
from webhooks.signals import deliveries_ready
from webhooks.ssrf import UnsafeUrl, check_url

logger = logging.getLogger(__name__)

CONSUMER = "webhooks"
MAX_ATTEMPTS = 10
# The wait after each failed try (9 waits between 10 tries: 23 h 51 min in all).
RETRY_DELAYS = [
    datetime.timedelta(minutes=minutes) for minutes in (1, 5, 15, 30, 60, 120, 240, 360, 600)
]
RETRY_WINDOW = datetime.timedelta(hours=24)
# A new delivery is sent by the task queued with it; the sweep takes it over after this.
SWEEP_GRACE = datetime.timedelta(seconds=60)
AUDITED = ("url", "events", "is_active")


# --- Subscriptions --------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except UnsafeUrl as exc:
        raise BrokenRule(str(exc), field="url") from None
    return url


def _checked_events(events: list[str]) -> list[str]:
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise BrokenRule(
            f"Unknown event(s): {', '.join(map(str, unknown))}. Known: {', '.join(EVENT_TYPES)}.",
            field="events",
        )
    if not events:
        raise BrokenRule("Subscribe to at least one event.", field="events")
    return sorted(set(events), key=EVENT_TYPES.index)


def check_subscription(*, url: str | None, events: list[str] | None) -> None:
    """The checks of a subscription alone (the admin's form says them before saving)."""
    if url is not None:
        _checked_url(url)
    if events is not None:
        _checked_events(list(events))


def create_webhook(
    *, organization, url: str, events: list[str], is_active: bool = True, secret: str = ""
) -> tuple[Webhook, str]:
    """A new subscription; its URL must be public https (unless WEBHOOK_ALLOW_PRIVATE). Returns
    it with its secret (the one given, or a new random one), which is shown this once."""
    secret = secret or secrets.new_secret()
    with transaction.atomic():
        webhook = Webhook.objects.create(
            organization=organization,
            url=_checked_url(url),
            events=_checked_events(events),
            is_active=is_active,
            encrypted_secret=secrets.encrypt(secret),
        )
        audit.created(webhook, AUDITED)
    return webhook, secret


def update_webhook(
    *,
    webhook: Webhook,
    url: str = UNSET,
    events: list[str] = UNSET,
    is_active: bool = UNSET,
    secret: str = UNSET,
) -> Webhook:
    """Edit a subscription (the fields given); a new secret signs from the next delivery on."""
    changes = given({"url": url, "events": events, "is_active": is_active})
    if "url" in changes:
        _checked_url(changes["url"])
    if "events" in changes:
        changes["events"] = _checked_events(changes["events"])
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().filter(pk=webhook.pk).first()
        if locked is None:
            raise Conflict("The webhook no longer exists.")
        before = audit.snapshot(locked, AUDITED)
        for field, value in changes.items():
            setattr(locked, field, value)
        trail = audit.diff(before, audit.snapshot(locked, AUDITED))
        if secret is not UNSET and secret:
            locked.encrypted_secret = secrets.encrypt(secret)
            trail["secret"] = [None, audit.PASSWORD_CHANGED]
        locked.save()
        audit.record(
            organization_id=locked.organization_id,
            action=audit.Action.UPDATE,
            obj=locked,
            changes=trail,
        )
    return locked


def delete_webhook(*, webhook: Webhook) -> None:
    """A deleted subscription gets nothing more; its deliveries go with it."""
    with transaction.atomic():
        audit.deleted(webhook)
        webhook.delete()


# --- From the outbox to deliveries -----------------------------------------------------------


def _make_deliveries(events: list[Event], made: list[int]) -> None:
    hooks = defaultdict(list)
    for webhook in Webhook.objects.filter(
        organization_id__in={event.organization_id for event in events}, is_active=True
    ).only("pk", "organization_id", "events", "created_at"):
        hooks[webhook.organization_id].append(webhook)
    now = timezone.now()
    deliveries = [
        Delivery(
            organization_id=event.organization_id,
            webhook_id=webhook.pk,
            event_id=event.pk,
            created_at=now,
            next_attempt_at=now,
            give_up_at=now + RETRY_WINDOW,
        )
        for event in events
        for webhook in hooks.get(event.organization_id, ())
        if event.type in webhook.events and webhook.created_at <= event.created_at
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
        made += (
            Delivery.objects.filter(
                event_id__in=[event.pk for event in events], attempts=0, status="pending"
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def fan_out(*, batch_size: int = 1000) -> list[int]:
    """Turn the outbox's new events into deliveries (see the module's docstring). Returns the
    new deliveries' ids."""
    made = []
    consume(
        consumer=CONSUMER,
        apply=partial(_make_deliveries, made=made),
        types=EVENT_TYPES,
        batch_size=batch_size,
    )
    return made


def due_deliveries(*, now: datetime.datetime | None = None):
    """Pending deliveries whose time has come (not claimed, their delay over)."""
    return Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
    )


def overdue_deliveries(*, now: datetime.datetime | None = None):
    """Due deliveries that no queued task is likely to send: retries whose delay is over, and
    new ones left a while (their task lost with a broker, or never queued)."""
    now = now or timezone.now()
    return due_deliveries(now=now).filter(
        Q(attempts__gt=0) | Q(next_attempt_at__lte=now - SWEEP_GRACE)
    )


# --- Sending -----------------------------------------------------------------------------------


def payload(event: Event) -> bytes:
    """The body a receiver gets (API.md, Webhooks); the signature is over these bytes."""
    return json.dumps(
        {
            "id": str(event.uuid),
            "type": event.type,
            "created_at": timestamp(event.created_at),
            "organization": event.organization_id,
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.WEBHOOK_TIMEOUT * 2 + 30)


def deliver(*, delivery_id: int) -> bool:
    """Send one pending delivery whose time has come, unless another worker holds it; record
    the answer. Returns whether it was delivered."""
    now = timezone.now()
    claimed = (
        due_deliveries(now=now)
        .filter(pk=delivery_id)
        .update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("webhook", "event").get(pk=delivery_id)
    webhook = delivery.webhook
    answer = _send(delivery)
    now = timezone.now()
    fields = {"response_status": answer.status, "last_error": answer.error[:2000]}
    if answer.ok:
        fields.update(status=Delivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    else:
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
        if (
            delivery.attempts >= MAX_ATTEMPTS
            or now + delay > delivery.give_up_at
            or not webhook.is_active
        ):
            fields.update(status=Delivery.Status.FAILED, next_attempt_at=None)
        else:
            fields.update(next_attempt_at=now + delay)
        logger.info(
            "Webhook %s delivery %s attempt %s: %s", webhook.pk, delivery.pk, delivery.attempts,
            answer.error or answer.status,
        )  # fmt: skip
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return answer.ok


def _send(delivery: Delivery) -> sender.Answer:
    webhook = delivery.webhook
    if not webhook.is_active:
        return sender.Answer(status=None, error="The webhook is not active.")
    try:
        target = check_url(webhook.url)  # again: the name may resolve elsewhere by now
    except UnsafeUrl as exc:
        return sender.Answer(status=None, error=str(exc))
    body = payload(delivery.event)
    headers = {
        "User-Agent": "Stockroom-Webhooks/1",
        "X-Stockroom-Event": delivery.event.type,
        "X-Stockroom-Delivery": str(delivery.pk),
        "X-Stockroom-Signature": secrets.signature(secrets.decrypt(webhook.encrypted_secret), body),
    }
    return sender.post(target, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT)


# --- Redelivery and ping -------------------------------------------------------------------------


def _queue_after_commit(delivery_ids: list[int]) -> None:
    transaction.on_commit(
        partial(deliveries_ready.send, sender=Delivery, delivery_ids=delivery_ids), robust=True
    )


def redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery again (delivered or failed): pending at once, with 24 hours of retries."""
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + RETRY_WINDOW,
            delivered_at=None,
        )
        _queue_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def ping(*, webhook: Webhook) -> Delivery:
    """A `ping` event for this webhook alone (whatever it subscribes to)."""
    now = timezone.now()
    with transaction.atomic():
        event = emit(
            organization_id=webhook.organization_id,
            type=PING,
            data={"webhook": webhook.pk, "url": webhook.url},
        )
        delivery = Delivery.objects.create(
            organization_id=webhook.organization_id,
            webhook=webhook,
            event=event,
            next_attempt_at=now,
            give_up_at=now + RETRY_WINDOW,
        )
        _queue_after_commit([delivery.pk])
    return delivery


def prune_deliveries(*, before: datetime.datetime) -> int:
    """Delete the deliveries delivered, or failed (their retries over), before `before`; their
    events may then go too (core.events.prune). Returns how many."""
    finished = Q(status=Delivery.Status.DELIVERED, delivered_at__lt=before) | Q(
        status=Delivery.Status.FAILED, give_up_at__lt=before
    )
    return delete_in_batches(Delivery.objects.filter(finished))


def sweep() -> list[int]:
    """The periodic sweep: new events into deliveries; returns them with every overdue one, for
    the caller to send (webhooks.tasks queues each)."""
    made = fan_out()
    overdue = overdue_deliveries().order_by("next_attempt_at", "id").values_list("pk", flat=True)
    return list(dict.fromkeys([*made, *overdue[:10_000]]))
