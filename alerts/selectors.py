"""Reads for the alert emails: who receives them and what is low or expired right now."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from alerts.models import AlertLog, StockAlert
from core.dates import zone
from inventory.selectors import (
    expired_products,
    low_stock_products,
    most_urgent_low_stock,
    stock_keeping_products,
)
from purchases.selectors import on_order
from stock.selectors import expired_stock_value, expiring_within, expiry_rows
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


def expiring_products(*, organization_id, today: datetime.date) -> QuerySet:
    """Products with stock expiring within ALERT_EXPIRY_DAYS, not expired yet."""
    return stock_keeping_products(organization_id=organization_id).filter(
        expiring_within(settings.ALERT_EXPIRY_DAYS, organization_id=organization_id, today=today)
    )


def organizations_to_alert(*, today: datetime.date, among: list[int]) -> QuerySet:
    """Ids of the organizations (`among` these, whose today is `today`) that have a low-stock,
    expired or soon-expiring product now."""
    low = low_stock_products(organization_id=OuterRef("pk"))
    expired = expired_products(organization_id=OuterRef("pk"), today=today)
    expiring = expiring_products(organization_id=OuterRef("pk"), today=today)
    return (
        Organization.objects.filter(pk__in=among)
        .filter(Exists(low) | Exists(expired) | Exists(expiring))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def digests_due(*, at_digest_hour: bool, again: bool = False) -> list[tuple[int, datetime.date]]:
    """(organization id, its local date) of every organization whose digest of the day is due
    and that has something to report: its local day's digest has not gone out yet (`again`:
    whether or not it has) and, `at_digest_hour`, its local `digest_hour` has come (what the
    hourly beat task sends; a daylight-saving change skips or repeats an hour, never a day).
    Three queries, and one per local date in use (at most three)."""
    now = timezone.now()
    today_of = {}
    for pk, time_zone, digest_hour in Organization.objects.order_by("pk").values_list(
        "pk", "time_zone", "digest_hour"
    ):
        local = now.astimezone(zone(time_zone))
        if not at_digest_hour or local.hour >= digest_hour:
            today_of[pk] = local.date()
    if not again:
        sent = set(
            AlertLog.objects.filter(
                kind=AlertLog.Kind.DIGEST,
                forced=False,
                organization_id__in=list(today_of),
                digest_date__in=set(today_of.values()),
            ).values_list("organization_id", "digest_date")
        )
        today_of = {pk: day for pk, day in today_of.items() if (pk, day) not in sent}
    due = []
    for day in sorted(set(today_of.values())):
        among = [pk for pk, local_day in today_of.items() if local_day == day]
        due += [(pk, day) for pk in organizations_to_alert(today=day, among=among)]
    return sorted(due)


@dataclass(frozen=True)
class StockReport:
    """What an alert email lists: the first rows of each section and the totals (products;
    the expiry sections list a lot-tracked product's lots one by one)."""

    low_stock: list[dict]
    expired: list[dict]
    low_stock_count: int
    expired_count: int
    currency: str = ""
    expired_value: Decimal = Decimal("0.00")  # at price, as the dashboard's expired value
    expiring: list[dict] = field(default_factory=list)
    expiring_count: int = 0
    expiry_days: int = 0
    more_expired: bool = False  # rows left out by ALERT_EMAIL_MAX_ROWS
    more_expiring: bool = False
    # Low, but covered by what is on order (available + on order above the threshold): listed
    # apart from `low_stock`, the fresh problems (`low_stock_count` counts both).
    low_on_order: list[dict] = field(default_factory=list)
    low_on_order_count: int = 0

    @property
    def fresh_low_count(self) -> int:
        """Low products that what is on order does not cover: the `low_stock` section's."""
        return self.low_stock_count - self.low_on_order_count

    @property
    def is_empty(self) -> bool:
        return not (self.low_stock_count or self.expired_count or self.expiring_count)


def covered_by_orders() -> Q:
    """A low product that what is on order brings back above its threshold (`on_order`
    annotated): available + on order > threshold."""
    return Q(low_stock_threshold__lt=F("quantity") - F("allocated") + F("on_order"))


def stock_report(*, organization: Organization, today: datetime.date) -> StockReport:
    """Everything low, expired or expiring soon right now (most urgent first), the low
    products that open purchase orders cover apart, with what is on order, the expired and
    expiring stock with its value at price, in eleven queries."""
    organization_id = organization.pk
    limit = email_max_rows()
    days = settings.ALERT_EXPIRY_DAYS
    products = stock_keeping_products(organization_id=organization_id)
    low = low_stock_products(organization_id=organization_id)
    expired = expired_products(organization_id=organization_id, today=today)
    expiring = expiring_products(organization_id=organization_id, today=today)
    one_more = None if limit is None else limit + 1
    expired_rows = expiry_rows(products, expired=True, today=today, limit=one_more)
    expiring_rows = expiry_rows(products, expired=False, days=days, today=today, limit=one_more)
    low_rows = (
        most_urgent_low_stock(low)
        .annotate(
            available=F("quantity") - F("allocated"),
            supplier_name=F("supplier__name"),
            on_order=on_order(),
        )
        .values(
            "id", "sku", "name", "quantity", "available", "on_order", "low_stock_threshold",
            "supplier_name",
        )
    )  # fmt: skip
    covered = low_rows.filter(covered_by_orders())
    return StockReport(
        low_stock=list(low_rows.exclude(covered_by_orders())[:limit]),
        low_on_order=list(covered[:limit]),
        low_on_order_count=covered.count(),
        expired=expired_rows[:limit],
        expiring=expiring_rows[:limit],
        low_stock_count=low.count(),
        expired_count=expired.count(),
        currency=organization.currency,
        expired_value=expired_stock_value(organization_id=organization_id, today=today),
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
