"""An organization's "today", and date filters on timestamps (API.md).

`local_today` is the ONE place that knows what day it is for an organization: every "today"
(expiry, the alerts, a report's default range, an export's file name) is asked of it with the
organization. For now every organization's is the UTC date, and date ranges are UTC dates; an
organization's own time zone changes this module, not its callers.
"""

import datetime

from django.db.models import QuerySet
from django.utils import timezone


def local_today(organization_id: int | None) -> datetime.date:
    """The organization's today: for now the UTC date for every organization. None (a scan
    across every organization, e.g. which ones have something to report) is the UTC date."""
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
