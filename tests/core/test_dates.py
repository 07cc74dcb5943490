"""An organization's own day (`core.dates`, API.md Organization): its today, a local date range
as a half-open UTC range, and local periods computed by the database, in zones far from UTC and
across both daylight-saving changes, with the clock stopped (time-machine)."""

import datetime

import pytest
from django.db.models import Count

from core.dates import (
    EachOrganizationsToday,
    day_start,
    is_known_time_zone,
    local_period,
    local_range,
    local_today,
    time_zone_of,
    within_local_dates,
    zone,
)
from sales.models import SalesOrder
from stock.services import default_location
from tests.factories import OrganizationFactory

UTC = datetime.UTC
AUCKLAND, NEW_YORK = zone("Pacific/Auckland"), zone("America/New_York")
KIRITIMATI, PAGO_PAGO = zone("Pacific/Kiritimati"), zone("Pacific/Pago_Pago")


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def hours(day: datetime.date, tz) -> float:
    start, end = local_range(tz=tz, date_from=day, date_to=day)
    return (end - start).total_seconds() / 3600


@pytest.mark.parametrize(
    ("tz", "day", "length"),
    [
        (NEW_YORK, datetime.date(2026, 3, 8), 23),  # clocks forward at 02:00
        (NEW_YORK, datetime.date(2026, 11, 1), 25),  # clocks back at 02:00
        (AUCKLAND, datetime.date(2026, 9, 27), 23),  # clocks forward at 02:00
        (AUCKLAND, datetime.date(2026, 4, 5), 25),  # clocks back at 03:00
        (NEW_YORK, datetime.date(2026, 3, 9), 24),
        (KIRITIMATI, datetime.date(2026, 4, 5), 24),
        (zone("America/Santiago"), datetime.date(2026, 9, 6), 23),  # midnight skipped
    ],
)
def test_a_local_day_lasts_from_its_midnight_to_the_next(tz, day, length):
    assert hours(day, tz) == length
    start, end = local_range(tz=tz, date_from=day, date_to=day)
    # Both ends are instants on the local calendar's day boundary.
    assert start.astimezone(tz).date() == day
    assert (start - datetime.timedelta(microseconds=1)).astimezone(tz).date() < day
    assert end.astimezone(tz).date() == day + datetime.timedelta(days=1)


def test_a_day_whose_midnight_is_skipped_starts_at_its_first_instant():
    """Santiago moves its clocks from 00:00 to 01:00: its day starts at 01:00 local."""
    start = day_start(datetime.date(2026, 9, 6), zone("America/Santiago"))
    assert start == utc(2026, 9, 6, 4)
    assert start.astimezone(zone("America/Santiago")).time() == datetime.time(1, 0)


def test_consecutive_days_share_their_boundary_so_no_instant_is_in_two_or_none():
    for tz in (AUCKLAND, NEW_YORK, KIRITIMATI, PAGO_PAGO):
        day = datetime.date(2026, 1, 1)
        for _ in range(366):
            _, end = local_range(tz=tz, date_from=day, date_to=day)
            next_start, _ = local_range(tz=tz, date_from=day + datetime.timedelta(days=1),
                                        date_to=None)  # fmt: skip
            assert end == next_start
            day += datetime.timedelta(days=1)


def test_a_range_is_half_open_and_unbounded_ends_stay_open():
    start, end = local_range(
        tz=AUCKLAND, date_from=datetime.date(2026, 4, 4), date_to=datetime.date(2026, 4, 5)
    )
    assert (start, end) == (utc(2026, 4, 3, 11), utc(2026, 4, 5, 12))  # 24 + 25 hours
    assert local_range(tz=AUCKLAND, date_from=None, date_to=None) == (None, None)
    assert local_range(tz=AUCKLAND, date_from=None, date_to=datetime.date.max) == (None, None)


def test_the_same_instant_is_three_dates_apart_around_the_world(clock):
    """10:30 UTC on the 21st: the 22nd in Kiritimati (UTC+14), still the 20th in Pago Pago
    (UTC-11)."""
    clock.move_to(utc(2026, 11, 21, 10, 30))
    kiritimati = OrganizationFactory.build(time_zone="Pacific/Kiritimati")
    pago_pago = OrganizationFactory.build(time_zone="Pacific/Pago_Pago")
    assert local_today(kiritimati) == datetime.date(2026, 11, 22)
    assert local_today(pago_pago) == datetime.date(2026, 11, 20)
    assert local_today(OrganizationFactory.build(time_zone="UTC")) == datetime.date(2026, 11, 21)
    assert local_today(None) == datetime.date(2026, 11, 21)  # no organization: UTC


@pytest.mark.django_db
def test_an_organization_given_by_id_is_read_from_the_database(clock):
    clock.move_to(utc(2026, 11, 21, 10, 30))
    organization = OrganizationFactory(time_zone="Pacific/Kiritimati")
    assert time_zone_of(organization.pk) == KIRITIMATI
    assert local_today(organization.pk) == datetime.date(2026, 11, 22)


def test_known_time_zones_are_iana_names_the_databases_read_as_places():
    assert is_known_time_zone("Pacific/Auckland") and is_known_time_zone("UTC")
    for name in ("Mars/Olympus_Mons", "", "localtime", "Etc/GMT-14", "+05:00", None, 7):
        assert not is_known_time_zone(name), name


def _sale(organization, at: datetime.datetime) -> SalesOrder:
    number = SalesOrder.objects.filter(organization=organization).count() + 1
    return SalesOrder.objects.create(
        organization=organization,
        number=number,
        status=SalesOrder.Status.FULFILLED,
        fulfilled_at=at,
        location=default_location(organization_id=organization.pk),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_the_database_buckets_timestamps_into_local_periods(organization, interval):
    """Every hour of Auckland's 25-hour day (5 April 2026), and the instants either side of
    it: the database's local period of each is Python's."""
    start, end = local_range(
        tz=AUCKLAND, date_from=datetime.date(2026, 4, 5), date_to=datetime.date(2026, 4, 5)
    )
    instants = [start + datetime.timedelta(hours=n) for n in range(25)]
    instants += [start - datetime.timedelta(microseconds=1), end]
    for at in instants:
        _sale(organization, at)

    periods = (
        SalesOrder.objects.filter(organization=organization)
        .annotate(period=local_period("fulfilled_at", interval, tz=AUCKLAND))
        .values("period")
        .annotate(orders=Count("id"))
        .order_by("period")
    )

    expected: dict[datetime.date, int] = {}
    for at in instants:
        day = at.astimezone(AUCKLAND).date()
        first = {
            "day": day,
            "week": day - datetime.timedelta(days=day.weekday()),
            "month": day.replace(day=1),
        }[interval]
        expected[first] = expected.get(first, 0) + 1
    assert {row["period"]: row["orders"] for row in periods} == expected
    if interval == "day":
        assert expected[datetime.date(2026, 4, 5)] == 25


@pytest.mark.django_db
def test_a_local_date_range_filters_on_the_utc_timestamps(organization):
    organization.time_zone = "America/New_York"
    late = _sale(organization, utc(2026, 11, 2, 4, 30))  # 23:30 EST on 1 November
    early = _sale(organization, utc(2026, 11, 2, 5, 0))  # 00:00 EST on 2 November
    orders = SalesOrder.objects.filter(organization=organization)

    first = within_local_dates(
        orders, field="fulfilled_at", organization=organization,
        date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 1),
    )  # fmt: skip
    second = within_local_dates(
        orders, field="fulfilled_at", organization=organization,
        date_from=datetime.date(2026, 11, 2),
    )  # fmt: skip

    assert list(first) == [late]
    assert list(second) == [early]
    sql = str(first.query)
    assert '"fulfilled_at" >=' in sql and '"fulfilled_at" <' in sql  # the index's column


@pytest.mark.django_db
def test_each_organizations_today_in_sql_is_its_own(clock):
    """For a superuser's lists of every organization: each row's organization's today."""
    clock.move_to(utc(2026, 11, 21, 10, 30))
    ahead = OrganizationFactory(time_zone="Pacific/Kiritimati")
    behind = OrganizationFactory(time_zone="Pacific/Pago_Pago")
    here = OrganizationFactory(time_zone="UTC")
    for organization in (ahead, behind, here):
        _sale(organization, utc(2026, 11, 1))
    today = EachOrganizationsToday()

    rows = dict(
        SalesOrder.objects.annotate(today=today, in_a_week=today + datetime.timedelta(days=7))
        .filter(organization__in=[ahead, behind, here])
        .values_list("organization_id", "today")
    )
    weeks = dict(
        SalesOrder.objects.annotate(in_a_week=today + datetime.timedelta(days=7))
        .filter(organization__in=[ahead, behind, here])
        .values_list("organization_id", "in_a_week")
    )

    assert rows == {
        ahead.pk: datetime.date(2026, 11, 22),
        behind.pk: datetime.date(2026, 11, 20),
        here.pk: datetime.date(2026, 11, 21),
    }
    assert weeks[behind.pk] == datetime.date(2026, 11, 27)
