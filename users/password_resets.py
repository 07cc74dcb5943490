"""Password-reset emails go through an outbox (`PasswordResetRequest`).

A request writes one row and nothing else, whether or not the address is known (the answer is
the same 202 and takes the same work either way), and at most PASSWORD_RESET_MAX_PER_ADDRESS
requests per address and PASSWORD_RESET_WINDOW_SECONDS are written. The email goes out after the
request has been answered: queued on the broker (or run in-process without one), and when the
broker is unreachable, by the periodic sweep (beat every minute, or the `deliver_password_resets`
command from cron). A failed send is retried with backoff; a request that could not be sent
within PASSWORD_RESET_TIMEOUT is dropped (its link would come too late to be of use).
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.db import one_at_a_time
from core.outbox import send_claimed
from users.models import PasswordResetRequest, User


def address_digest(email: str) -> str:
    """What the outbox keeps of an address: a keyed digest of it, as it is matched (spaces
    stripped, case ignored)."""
    normalized = email.strip().lower()
    return salted_hmac("users.password_reset.address", normalized, algorithm="sha256").hexdigest()


def _window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PASSWORD_RESET_WINDOW_SECONDS)


def record_reset_request(*, email: str) -> None:
    """Write a reset request for the address: one row per active account that has it (one
    without an account when none has), unless the address already had
    PASSWORD_RESET_MAX_PER_ADDRESS requests in the window. Requests for one address run one at
    a time (an advisory lock), so a burst of them cannot slip past the limit."""
    address = address_digest(email)
    now = timezone.now()
    with one_at_a_time(f"users.password_reset:{address}"):
        recent = (
            PasswordResetRequest.objects.filter(address=address, requested_at__gt=now - _window())
            .values("requested_at")
            .distinct()
            .count()
        )
        if recent >= settings.PASSWORD_RESET_MAX_PER_ADDRESS:
            return
        user_ids = User.objects.filter(email__iexact=email.strip(), is_active=True).values_list(
            "pk", flat=True
        )
        PasswordResetRequest.objects.bulk_create(
            PasswordResetRequest(address=address, user_id=user_id, requested_at=now)
            for user_id in (list(user_ids) or [None])
        )


def resets_due(*, now) -> QuerySet[PasswordResetRequest]:
    """Reset emails to send now: not sent, for an account, not held by another worker or
    backing off, and requested recently enough for the link to be of use."""
    return PasswordResetRequest.objects.filter(
        sent_at__isnull=True,
        user__isnull=False,
        next_attempt_at__lte=now,
        requested_at__gt=now - datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    ).order_by("id")


def deliver_password_resets(*, send: Callable[..., object]) -> int:
    """The sweep: send every reset email that is due with `send(user_id=...)` (which renders
    the email with a fresh token), and forget requests older than both the limit's window and
    the links' lifetime. Safe to run anywhere, any number of times at once. Returns how many
    went out."""
    now = timezone.now()
    sent = sum(
        send_claimed(
            due=resets_due(now=now),
            pk=pk,
            send=lambda request: send(user_id=request.user_id),
            what="Password-reset email",
        )
        for pk in resets_due(now=now).values_list("pk", flat=True)
    )
    kept = max(_window(), datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT))
    PasswordResetRequest.objects.filter(requested_at__lt=now - kept).delete()
    return sent
