"""Emails about accounts, sent by a worker (in-process without a broker)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string

from core.broker import queue_or_leave_for_sweep
from users import password_resets
from users.models import User
from users.tokens import reset_token_for


@shared_task(name="users.tasks.send_password_reset_email")
def send_password_reset_email(user_id: int) -> bool:
    """The reset email (plain text and HTML) with a token valid PASSWORD_RESET_TIMEOUT s."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    uid, token = reset_token_for(user)
    context = {
        "user": user,
        "uid": uid,
        "token": token,
        "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        "link": (settings.PASSWORD_RESET_URL or "").format(uid=uid, token=token),
    }
    message = EmailMultiAlternatives(
        subject="[Stockroom] Reset your password",
        body=render_to_string("users/password_reset.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("users/password_reset.html", context), "text/html")
    message.send(fail_silently=False)
    return True


@shared_task(
    name="users.tasks.deliver_password_resets",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=5 * 60,
    max_retries=20,
)
def deliver_password_resets() -> int:
    """Send every reset email the outbox holds (after each request, and every minute on beat)."""
    return password_resets.deliver_password_resets(send=send_password_reset_email)


def deliver_password_resets_soon() -> None:
    """Run once a reset request has been answered: queue the delivery (in-process without a
    broker). With the broker unreachable the email waits in the outbox for the sweep."""
    queue_or_leave_for_sweep(deliver_password_resets, what="password-reset emails")
