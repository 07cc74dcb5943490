"""An organization's own day (API.md, Conventions and Organization): timestamps are stored and
sent in UTC; "today" and every date a user types or reads in a report is the organization's
local date in its `time_zone`.

One place for each of the three things that follow from it:
- `local_today(organization)`: the organization's today (expiry, alerts, filenames, defaults);
- `within_local_dates(...)`: local dates date_from..date_to (inclusive) as a half-open UTC
  range, local midnight to local midnight, so an index on the UTC timestamp serves it, a day of
  a daylight-saving change has its 23 or 25 hours, and no row falls between two days or into
  both;
- `local_period(...)`: a timestamp's local day, week (from Monday) or month, computed by the
  database: `date_trunc(..., ts AT TIME ZONE zone)` on PostgreSQL, and on SQLite Django's own
  SQL functions, which convert with Python's zoneinfo (the same IANA rules).

An organization is passed as itself (anything with a `time_zone`: the signed-in user's
organization is loaded with them) or by id (then its zone is read from the database).
"""

import datetime
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.db import connection
from django.db.backends.utils import split_tzname_delta
from django.db.models import Case, DateField, QuerySet, Value, When
from django.db.models.functions import Trunc
from django.utils import timezone

from core.tenancy import ORGANIZATION_MODEL

UTC = datetime.UTC


@functools.cache
def known_time_zones() -> frozenset[str]:
    """The IANA names an organization may live in: the zones Python knows, less the
    machine-dependent `localtime`, `Factory`, and the `Etc/GMT±NN` names that the databases'
    time-zone arithmetic reads as offsets (choose the place's name: `Pacific/Kiritimati`, not
    `Etc/GMT-14`)."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in ("localtime", "Factory") and split_tzname_delta(name)[2] is None
    )


@functools.lru_cache(maxsize=1024)
def database_knows_time_zone(name: str) -> bool:
    """Whether the database can compute in this zone too (PostgreSQL keeps its own list, read
    once per name in a process; SQLite computes with Python's)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = %s)", [name])
        return bool(cursor.fetchone()[0])


def is_known_time_zone(name: str) -> bool:
    return isinstance(name, str) and name in known_time_zones()


@functools.cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def time_zone_of(organization) -> zoneinfo.ZoneInfo:
    """The organization's zone: `organization` is an organization (its `time_zone`) or its id
    (read from the database: one query)."""
    if organization is None:  # no organization (a platform superuser, the schema's views)
        return zone("UTC")
    name = getattr(organization, "time_zone", None)
    if name is None:
        model = apps.get_model(ORGANIZATION_MODEL)
        name = model.objects.filter(pk=organization).values_list("time_zone", flat=True).first()
    return zone(name or "UTC")


def local_now(organization) -> datetime.datetime:
    """Now, on the organization's clock."""
    return timezone.now().astimezone(time_zone_of(organization))


def local_today(organization) -> datetime.date:
    """The organization's today: its local date now (API.md, Organization). The ONE place that
    knows what day it is for an organization: every "today" (expiry, the alerts, a report's
    default range, an export's file name) is asked of it. `organization` is the organization or
    its id (one query); None (no organization: a platform superuser, a scan across every
    organization) is the UTC date."""
    return local_now(organization).date()


def day_start(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The instant `day` begins in `tz` (its local midnight; where a daylight-saving change
    skips midnight, the first instant of the day), as a UTC timestamp."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz).astimezone(UTC)


def local_range(
    *, tz: zoneinfo.ZoneInfo, date_from: datetime.date | None, date_to: datetime.date | None
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """Local dates date_from..date_to (inclusive) as [start, end) in UTC; None: unbounded."""
    start = day_start(date_from, tz) if date_from is not None else None
    end = None
    if date_to is not None and date_to < datetime.date.max:
        end = day_start(date_to + datetime.timedelta(days=1), tz)
    return start, end


def within_local_dates(
    queryset: QuerySet,
    *,
    field: str,
    organization,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet:
    """Rows whose `field` timestamp falls on the organization's local dates date_from..date_to,
    both inclusive: a half-open UTC range, so an index on the timestamp serves it."""
    start, end = local_range(tz=time_zone_of(organization), date_from=date_from, date_to=date_to)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


PERIODS = ("day", "week", "month")  # weeks start on Monday (ISO 8601, and PostgreSQL's)


def local_period(field: str, interval: str, *, tz: zoneinfo.ZoneInfo) -> Trunc:
    """The first local date of the day, week or month of the `field` timestamp, in SQL (the
    timestamp converted with AT TIME ZONE on PostgreSQL; SQLite converts with zoneinfo)."""
    if interval not in PERIODS:
        raise ValueError(f"interval must be one of {PERIODS}")
    return Trunc(field, interval, output_field=DateField(), tzinfo=tz)


def local_dates_now(zones: Iterable[str]) -> dict[datetime.date, list[str]]:
    """The zones grouped by their local date now (at most three dates at any instant)."""
    now = timezone.now()
    by_date: dict[datetime.date, list[str]] = defaultdict(list)
    for name in sorted(set(zones)):
        by_date[now.astimezone(zone(name)).date()].append(name)
    return dict(by_date)


class EachOrganizationsToday(Case):
    """For rows of many organizations at once (a platform superuser's lists in the admin): in
    SQL, the today of the organization each row belongs to (its `organization`), by the zone it
    lives in; `+ timedelta(days=n)` is the date n days later. The zones in use are read in one
    query."""

    def __init__(self, *, by_date: dict[datetime.date, list[str]] | None = None, days: int = 0):
        if by_date is None:
            model = apps.get_model(ORGANIZATION_MODEL)
            zones = model.objects.order_by().values_list("time_zone", flat=True).distinct()
            by_date = local_dates_now(zones)
        self.by_date, self.days = by_date, days
        shift = datetime.timedelta(days=days)
        whens = [
            When(organization__time_zone__in=names, then=Value(day + shift))
            for day, names in sorted(by_date.items())
        ]
        super().__init__(*whens, default=Value(local_today(None) + shift), output_field=DateField())

    def __add__(self, other):
        if isinstance(other, datetime.timedelta):
            return EachOrganizationsToday(by_date=self.by_date, days=self.days + other.days)
        return super().__add__(other)
