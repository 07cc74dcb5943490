"""Date filters on timestamps: "today" and date ranges are UTC dates (API.md)."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone


def utc_today() -> datetime.date:
    """'Today' for expiry and date filters is the UTC date."""
    return timezone.now().astimezone(datetime.UTC).date()


def within_utc_dates(
    queryset: QuerySet,
    *,
    field: str,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet:
    """Rows whose `field` timestamp falls on UTC dates date_from..date_to, both inclusive.

    The dates become a half-open timestamp range, so an index on the timestamp serves it.
    """
    if date_from is not None:
        start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=datetime.UTC)
        queryset = queryset.filter(**{f"{field}__gte": start})
    if date_to is not None and date_to < datetime.date.max:
        end = datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
        )
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset
