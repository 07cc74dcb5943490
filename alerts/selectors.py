"""Reads for the alert emails: who receives them and what is low or expired right now."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet

from alerts.models import AlertLog, StockAlert
from core.dates import local_today
from inventory.selectors import (
    expired_products,
    low_stock_products,
    most_urgent_low_stock,
    stock_keeping_products,
)
from stock.selectors import expiring_within, expiry_rows
from users.models import Organization, Role, User


def email_max_rows() -> int | None:
    """At most this many products per email section; None (the default) lists every one.

    API.md promises every low or expired product; ALERT_EMAIL_MAX_ROWS lets a very large shop
    cap its emails (the counts stay the totals, and the email points at the full lists).
    """
    return settings.ALERT_EMAIL_MAX_ROWS or None


def alert_recipients(*, organization_id: int) -> list[str]:
    """Active managers with an email address; the admins when the organization has none."""
    rows = (
        User.objects.filter(
            organization_id=organization_id,
            is_active=True,
            groups__name__in=[Role.MANAGER, Role.ADMIN],
        )
        .exclude(email="")
        .values_list("groups__name", "email")
        .order_by("email")
        .distinct()
    )
    by_role: dict[str, list[str]] = {Role.MANAGER: [], Role.ADMIN: []}
    for role, email in rows:
        if email not in by_role[role]:
            by_role[role].append(email)
    return by_role[Role.MANAGER] or by_role[Role.ADMIN]


def expiring_products(*, organization_id, today: datetime.date | None = None) -> QuerySet:
    """Products with stock expiring within ALERT_EXPIRY_DAYS, not expired yet."""
    return stock_keeping_products(organization_id=organization_id).filter(
        expiring_within(settings.ALERT_EXPIRY_DAYS, organization_id=organization_id, today=today)
    )


def organizations_to_alert(*, today: datetime.date | None = None) -> QuerySet:
    """Ids of organizations that have a low-stock, expired or soon-expiring product now."""
    today = today or local_today(None)  # every organization's (the UTC date for now)
    low = low_stock_products(organization_id=OuterRef("pk"))
    expired = expired_products(organization_id=OuterRef("pk"), today=today)
    expiring = expiring_products(organization_id=OuterRef("pk"), today=today)
    return (
        Organization.objects.filter(Exists(low) | Exists(expired) | Exists(expiring))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class StockReport:
    """What an alert email lists: the first rows of each section and the totals (products;
    the expiry sections list a lot-tracked product's lots one by one)."""

    low_stock: list[dict]
    expired: list[dict]
    low_stock_count: int
    expired_count: int
    expiring: list[dict] = field(default_factory=list)
    expiring_count: int = 0
    expiry_days: int = 0
    more_expired: bool = False  # rows left out by ALERT_EMAIL_MAX_ROWS
    more_expiring: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.low_stock_count or self.expired_count or self.expiring_count)


def stock_report(*, organization_id: int, today: datetime.date | None = None) -> StockReport:
    """Everything low, expired or expiring soon right now (most urgent first), in eight
    queries."""
    today = today or local_today(organization_id)
    limit = email_max_rows()
    days = settings.ALERT_EXPIRY_DAYS
    products = stock_keeping_products(organization_id=organization_id)
    low = low_stock_products(organization_id=organization_id)
    expired = expired_products(organization_id=organization_id, today=today)
    expiring = expiring_products(organization_id=organization_id, today=today)
    one_more = None if limit is None else limit + 1
    expired_rows = expiry_rows(products, expired=True, today=today, limit=one_more)
    expiring_rows = expiry_rows(products, expired=False, days=days, today=today, limit=one_more)
    return StockReport(
        low_stock=list(
            most_urgent_low_stock(low)
            .annotate(available=F("quantity") - F("allocated"), supplier_name=F("supplier__name"))
            .values(
                "id", "sku", "name", "quantity", "available", "low_stock_threshold", "supplier_name"
            )[:limit]
        ),
        expired=expired_rows[:limit],
        expiring=expiring_rows[:limit],
        low_stock_count=low.count(),
        expired_count=expired.count(),
        expiring_count=expiring.count(),
        expiry_days=days,
        more_expired=limit is not None and len(expired_rows) > limit,
        more_expiring=limit is not None and len(expiring_rows) > limit,
    )


def unnotified_crossings(*, organization_id: int) -> QuerySet[StockAlert]:
    """Crossings that no email has notified yet (including those that recovered since)."""
    return StockAlert.objects.filter(organization_id=organization_id, notified_at__isnull=True)


def organizations_with_unnotified_crossings() -> list[int]:
    return list(
        StockAlert.objects.filter(notified_at__isnull=True)
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
        .distinct()
    )


def crossing_report(alerts: list[StockAlert]) -> StockReport:
    """The rows of an immediate low-stock email: each crossing, as it was when it happened."""
    rows = [
        {
            "id": alert.product_id,
            "sku": alert.product.sku,
            "name": alert.product.name,
            "quantity": alert.quantity,
            "available": alert.quantity,
            "low_stock_threshold": alert.low_stock_threshold,
            "supplier_name": alert.product.supplier.name if alert.product.supplier else None,
            "opened_at": alert.opened_at,
        }
        for alert in alerts[: email_max_rows()]
    ]
    return StockReport(low_stock=rows, expired=[], low_stock_count=len(alerts), expired_count=0)


def alert_logs_due(*, now) -> QuerySet[AlertLog]:
    """Emails written but not sent (yet), whose next attempt is due."""
    return AlertLog.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now).order_by("id")
