"""The low-stock rules: open and close StockAlerts, send the alert emails, record each send."""

import datetime

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import AlertLog, StockAlert
from alerts.selectors import (
    StockReport,
    alert_recipients,
    crossing_report,
    crossings_to_notify,
    stock_report,
)
from inventory.selectors import low_stock_products, utc_today
from stock.services import lock_products
from users.models import Organization


def send_alert_email(
    *, organization: Organization, recipients: list[str], subject: str, report: StockReport
) -> None:
    """Send one alert email (plain text and HTML); a failure raises, so the caller retries."""
    context = {"organization": organization, "report": report, "subject": subject}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("alerts/stock_alert.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("alerts/stock_alert.html", context), "text/html")
    message.send(fail_silently=False)


def update_stock_alerts(*, organization_id: int, product_ids: list[int]) -> bool:
    """A product low now gets one open alert; one that recovered has its alert closed.

    The products are locked in id order (as the stock service locks them), so the state read
    here is the committed one and concurrent updates for the same product serialise. Returns
    whether crossings are waiting to be notified.
    """
    ids = sorted({int(pk) for pk in product_ids})
    now = timezone.now()
    with transaction.atomic():
        lock_products(ids)
        low = low_stock_products(organization_id=organization_id).filter(pk__in=ids)
        StockAlert.objects.filter(
            organization_id=organization_id, product_id__in=ids, closed_at__isnull=True
        ).exclude(Exists(low.filter(pk=OuterRef("product_id")))).update(closed_at=now)
        StockAlert.objects.bulk_create(
            [
                StockAlert(
                    organization_id=organization_id,
                    product_id=pk,
                    quantity=quantity,
                    low_stock_threshold=threshold,
                )
                for pk, quantity, threshold in low.values_list(
                    "pk", "quantity", "low_stock_threshold"
                )
            ],
            ignore_conflicts=True,  # "one open alert per product": an open one stays as it is
        )
        return crossings_to_notify(organization_id=organization_id).exists()


def open_known_low_alert(*, product) -> None:
    """A new product that is already low gets an open alert marked notified (no email)."""
    is_low = (
        not product.has_variations
        and not product.is_archived
        and product.quantity <= product.low_stock_threshold
    )
    if is_low:
        StockAlert.objects.bulk_create(
            [
                StockAlert(
                    organization_id=product.organization_id,
                    product_id=product.pk,
                    quantity=product.quantity,
                    low_stock_threshold=product.low_stock_threshold,
                    notified_at=timezone.now(),
                )
            ],
            ignore_conflicts=True,
        )


def close_recovered_stock_alerts(*, organization_id: int) -> int:
    """Close the open alerts of products that are no longer low (e.g. a threshold edit)."""
    low = low_stock_products(organization_id=organization_id)
    return (
        StockAlert.objects.filter(organization_id=organization_id, closed_at__isnull=True)
        .exclude(Exists(low.filter(pk=OuterRef("product_id"))))
        .update(closed_at=timezone.now())
    )


def notify_low_stock_crossings(*, organization_id: int) -> AlertLog | None:
    """Email the managers once about the products that just went low, then mark them notified.

    The alerts are locked (SKIP LOCKED) while the email goes out, so two workers never send the
    same crossing twice; if the send fails nothing is marked and the retry sends it.
    """
    with transaction.atomic():
        alerts = list(
            crossings_to_notify(organization_id=organization_id)
            .select_related("product", "organization")
            .select_for_update(of=("self",), skip_locked=True)
            .order_by("id")
        )
        if not alerts:
            return None
        recipients = alert_recipients(organization_id=organization_id)
        log = None
        if recipients:  # nobody to tell: the crossing is dropped, the digest skips them too
            organization = alerts[0].organization
            report = crossing_report(alerts)
            subject = (
                f"[Stockroom] {organization.name}: "
                f"{report.low_stock_count} product(s) just went low on stock"
            )
            send_alert_email(
                organization=organization, recipients=recipients, subject=subject, report=report
            )
            log = AlertLog.objects.create(
                organization=organization,
                kind=AlertLog.Kind.LOW_STOCK,
                recipients=recipients,
                subject=subject,
                low_stock_count=report.low_stock_count,
                expired_count=0,
            )
        StockAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
            notified_at=timezone.now()
        )
    return log


def send_low_stock_digest(
    *, organization_id: int, today: datetime.date | None = None
) -> AlertLog | None:
    """Email the managers (else the admins) everything low or expired now; log it once sent.

    Nothing is sent to an organization with nothing to report or nobody to receive it.
    """
    today = today or utc_today()
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    close_recovered_stock_alerts(organization_id=organization_id)
    report = stock_report(organization_id=organization_id, today=today)
    if report.is_empty:
        return None
    recipients = alert_recipients(organization_id=organization_id)
    if not recipients:
        return None
    subject = (
        f"[Stockroom] {organization.name}: {report.low_stock_count} low-stock and "
        f"{report.expired_count} expired product(s) on {today.isoformat()}"
    )
    send_alert_email(
        organization=organization, recipients=recipients, subject=subject, report=report
    )
    return AlertLog.objects.create(
        organization=organization,
        kind=AlertLog.Kind.DAILY_DIGEST,
        recipients=recipients,
        subject=subject,
        low_stock_count=report.low_stock_count,
        expired_count=report.expired_count,
    )
