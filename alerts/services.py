"""The low-stock rules: crossings from the ledger's outbox, the daily digest, and their emails.

Every email is first written down (an `AlertLog` with its recipients and text) in a short
transaction, then sent with no transaction open and no row locked, then marked sent. So a
hanging SMTP server slows no stock change, a failed send is retried by the periodic sweep with
backoff, and a worker that dies mid-send can repeat only that one email (API.md).
"""

import datetime
import logging

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import AlertLog, StockAlert
from alerts.selectors import (
    StockReport,
    alert_logs_due,
    alert_recipients,
    crossing_report,
    organizations_with_unnotified_crossings,
    stock_report,
    unnotified_crossings,
)
from core.dates import local_today
from core.events import consume
from core.outbox import send_claimed
from stock.services.outbox import RECOVERED, WENT_LOW
from users.models import Organization

logger = logging.getLogger(__name__)


def _write_email(
    *,
    organization: Organization,
    kind: str,
    recipients: list[str],
    subject: str,
    report: StockReport,
    **fields,
) -> AlertLog:
    """Render the email and record it, unsent (the intent, written before any send)."""
    context = {"organization": organization, "report": report, "subject": subject}
    return AlertLog.objects.create(
        organization=organization,
        kind=kind,
        recipients=recipients,
        subject=subject,
        body_text=render_to_string("alerts/stock_alert.txt", context),
        body_html=render_to_string("alerts/stock_alert.html", context),
        low_stock_count=report.low_stock_count,
        expired_count=report.expired_count,
        **fields,
    )


def send_alert(*, log_id: int) -> bool:
    """Send one written email unless it is sent already or another worker is sending it.

    Returns whether it went out. A failure is logged and leaves it for a later attempt.
    """

    def send(log: AlertLog) -> None:
        message = EmailMultiAlternatives(subject=log.subject, body=log.body_text, to=log.recipients)
        message.attach_alternative(log.body_html, "text/html")
        message.send(fail_silently=False)

    return send_claimed(
        due=alert_logs_due(now=timezone.now()), pk=log_id, send=send, what="Alert email"
    )


# The alerts' name in the outbox (core.events): how far they got is their cursor.
CONSUMER = "alerts"


def _apply_crossings(events) -> None:
    for event in events:
        product_id = event.data["product"]
        if event.type == WENT_LOW:
            StockAlert.objects.bulk_create(
                [
                    StockAlert(
                        organization_id=event.organization_id,
                        product_id=product_id,
                        quantity=event.data["quantity"],
                        low_stock_threshold=event.data["low_stock_threshold"],
                        opened_at=event.created_at,
                    )
                ],
                ignore_conflicts=True,  # an alert open from before (or a product gone since)
            )
        else:
            StockAlert.objects.filter(product_id=product_id, closed_at__isnull=True).update(
                closed_at=event.created_at
            )


def record_crossings(*, batch_size: int = 1000) -> int:
    """Turn the outbox's `stock.low` and `stock.recovered` events into crossings: each "went
    low" opens one, each "recovered" closes the open one, and the alerts' cursor moves on in
    the same transaction. One sweep at a time, in event order, so a product's events are
    applied in the order they were committed. Returns how many events were applied."""
    return consume(
        consumer=CONSUMER,
        apply=_apply_crossings,
        types=(WENT_LOW, RECOVERED),
        batch_size=batch_size,
    )


def notify_crossings(*, organization_id: int) -> AlertLog | None:
    """Write one email to the managers listing the organization's crossings that no email
    has notified yet, and mark them notified by it; the caller sends it after commit."""
    with transaction.atomic():
        alerts = list(
            unnotified_crossings(organization_id=organization_id)
            .select_related("product__supplier", "organization")
            .select_for_update(of=("self",), skip_locked=True)
            .order_by("id")
        )
        if not alerts:
            return None
        recipients = alert_recipients(organization_id=organization_id)
        log = None
        if recipients:  # nobody to tell: the crossings are dropped, as the digest skips them
            organization = alerts[0].organization
            report = crossing_report(alerts)
            log = _write_email(
                organization=organization,
                kind=AlertLog.Kind.CROSSING,
                recipients=recipients,
                subject=(
                    f"[Stockroom] {organization.name}: "
                    f"{report.low_stock_count} product(s) just went low on stock"
                ),
                report=report,
            )
        StockAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
            notified_at=timezone.now(), log=log
        )
    return log


def deliver_stock_alerts() -> int:
    """The sweep: apply the outbox, write the emails owed for new crossings, and send every
    email that is due (new ones, and failed ones whose backoff has passed). Returns how many
    emails went out. Safe to run anywhere, any number of times at once."""
    record_crossings()
    for organization_id in organizations_with_unnotified_crossings():
        notify_crossings(organization_id=organization_id)
    sent = 0
    for log_id in alert_logs_due(now=timezone.now()).values_list("pk", flat=True):
        sent += send_alert(log_id=log_id)
    return sent


def digest_subject(organization: Organization, report: StockReport, today) -> str:
    expiring = (
        f", {report.expiring_count} expiring within {report.expiry_days} day(s)"
        if report.expiring_count
        else ""
    )
    return (
        f"[Stockroom] {organization.name}: {report.low_stock_count} low-stock and "
        f"{report.expired_count} expired product(s){expiring} on {today.isoformat()}"
    )


def send_low_stock_digest(
    *, organization_id: int, today: datetime.date | None = None, force: bool = False
) -> AlertLog | None:
    """Email the managers (else the admins) everything low or expired now, at most once per
    organization and local day (`today`, default the organization's; `force`: once more).
    Returns the email, sent or waiting for a retry; None when there is nothing to report,
    nobody to tell, or today's went already."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    today = today or local_today(organization)
    if (
        not force
        and AlertLog.objects.filter(
            organization_id=organization_id,
            kind=AlertLog.Kind.DIGEST,
            digest_date=today,
            forced=False,
        ).exists()
    ):
        return None
    report = stock_report(organization=organization, today=today)
    recipients = alert_recipients(organization_id=organization_id)
    if report.is_empty or not recipients:
        return None
    try:
        with transaction.atomic():
            log = _write_email(
                organization=organization,
                kind=AlertLog.Kind.DIGEST,
                recipients=recipients,
                subject=digest_subject(organization, report, today),
                report=report,
                digest_date=today,
                forced=force,
            )
    except IntegrityError:  # another run wrote today's digest meanwhile
        return None
    send_alert(log_id=log.pk)
    log.refresh_from_db()
    return log
