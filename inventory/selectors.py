"""Reads of the catalogue shared by the API, reports and alerts."""

import datetime

from django.db.models import BooleanField, DecimalField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from inventory.models import Product


def utc_today() -> datetime.date:
    """'Today' for expiry and date filters is the UTC date."""
    return timezone.now().astimezone(datetime.UTC).date()


def stock_keeping_products(*, organization_id: int) -> QuerySet[Product]:
    """Products that hold stock: not archived, and not a product whose variations keep it."""
    return Product.objects.filter(
        organization_id=organization_id, is_archived=False, has_variations=False
    )


def low_stock_products(*, organization_id: int) -> QuerySet[Product]:
    """Low stock means quantity <= low_stock_threshold (stock-keeping products only)."""
    return stock_keeping_products(organization_id=organization_id).filter(
        quantity__lte=F("low_stock_threshold")
    )


def expired_products(*, organization_id: int, today: datetime.date | None = None):
    """Expired means expiration_date <= today (UTC)."""
    return stock_keeping_products(organization_id=organization_id).filter(
        expiration_date__lte=today or utc_today()
    )


def with_stock_figures(queryset: QuerySet[Product], *, today: datetime.date | None = None):
    """Annotate is_low_stock, is_expired and stock_value in SQL, not per row in Python."""
    today = today or utc_today()
    return queryset.annotate(
        is_low_stock=ExpressionWrapper(
            Q(quantity__lte=F("low_stock_threshold")), output_field=BooleanField()
        ),
        is_expired=ExpressionWrapper(
            Q(expiration_date__isnull=False, expiration_date__lte=today),
            output_field=BooleanField(),
        ),
        stock_value=ExpressionWrapper(
            F("quantity") * F("price"), output_field=DecimalField(max_digits=24, decimal_places=2)
        ),
    )
