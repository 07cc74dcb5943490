"""Sales figures on the shop's own calendar (API.md, Organization and Reports): `date_from` and
`date_to` are local dates, periods are local days, weeks and months, in zones far from UTC and
across both daylight-saving changes. Sales are recorded through the services with the clock
stopped at the instant they happen (time-machine), so the service stamps them as a shop would."""

import datetime
import os
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.dates import zone
from orders.services import OrderItem
from reports import selectors
from sales import services as sales_services
from sales.models import SalesOrder, SalesOrderItem
from stock import services as stock_services
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from tests.support.api import client_for
from users import services as user_services
from users.models import Role

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TOTAL = "/api/dashboard/total-sales/"
BY_PERIOD = "/api/dashboard/sales-over-time/"
TOP = "/api/dashboard/top-products/"
FAR_FROM_UTC = ["Pacific/Auckland", "Pacific/Kiritimati", "America/New_York", "Pacific/Pago_Pago"]


def local(time_zone: str, *args) -> datetime.datetime:
    """A wall-clock time in the zone (the first of two, where a clock goes back)."""
    return datetime.datetime(*args, tzinfo=zone(time_zone))


@pytest.fixture
def shop(clock):
    """A shop, its admin (signed in with a JWT made on the stopped clock) and a stocked
    product; `live_in(zone)` moves the shop there (through the organization's service)."""
    organization = OrganizationFactory(name="Night Shop")
    admin = UserFactory(organization=organization, role=Role.ADMIN)
    tea = ProductFactory(organization=organization, sku="TEA", price="2.50", cost_price="1.00")
    stock_services.record_initial_stock(product=tea, quantity=10_000, user=admin)

    def live_in(time_zone: str):
        user_services.update_organization(organization=organization, time_zone=time_zone)
        organization.refresh_from_db()

    return {"organization": organization, "admin": admin, "tea": tea, "live_in": live_in,
            "clock": clock}  # fmt: skip


def sell_at(shop, at: datetime.datetime, quantity: int = 1) -> SalesOrder:
    """A sale fulfilled at `at` (the clock is moved there: the service stamps it)."""
    shop["clock"].move_to(at)
    return sales_services.create_sales_order(
        organization=shop["organization"],
        user=shop["admin"],
        items=[OrderItem(shop["tea"], quantity)],
        status=SalesOrder.Status.FULFILLED,
    )


def figures(shop, path, **params):
    response = client_for(shop["admin"]).get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("time_zone", FAR_FROM_UTC)
def test_a_sale_at_half_past_eleven_at_night_counts_on_that_local_day(shop, time_zone):
    shop["live_in"](time_zone)
    sell_at(shop, local(time_zone, 2026, 11, 20, 23, 30), quantity=2)
    sell_at(shop, local(time_zone, 2026, 11, 21, 0, 0), quantity=5)  # the next day's first

    day = {"date_from": "2026-11-20", "date_to": "2026-11-20"}
    total = figures(shop, TOTAL, **day)
    assert (total["order_count"], total["total_quantity"], total["total_revenue"]) == (
        1, 2, "5.00",
    )  # fmt: skip
    assert figures(shop, TOTAL, date_from="2026-11-21", date_to="2026-11-21")["total_quantity"] == 5
    rows = figures(shop, BY_PERIOD, date_from="2026-11-19", date_to="2026-11-21")
    assert [(row["period"], row["total_quantity"]) for row in rows] == [
        ("2026-11-19", 0), ("2026-11-20", 2), ("2026-11-21", 5),
    ]  # fmt: skip
    assert [(r["sku"], r["quantity_sold"]) for r in figures(shop, TOP, **day)] == [("TEA", 2)]
    # The order's own timestamp stays UTC.
    order = SalesOrder.objects.filter(organization=shop["organization"]).order_by("id").first()
    assert order.fulfilled_at == local(time_zone, 2026, 11, 20, 23, 30).astimezone(UTC)


@pytest.mark.parametrize(
    ("time_zone", "day", "hours"),
    [
        ("America/New_York", datetime.date(2026, 3, 8), 23),
        ("America/New_York", datetime.date(2026, 11, 1), 25),
        ("Pacific/Auckland", datetime.date(2026, 9, 27), 23),
        ("Pacific/Auckland", datetime.date(2026, 4, 5), 25),
    ],
)
def test_day_buckets_of_a_23_and_a_25_hour_day(shop, time_zone, day, hours):
    """One sale every real hour, from the day before's last hour to the day after's first: the
    day of the change holds 23 or 25 of them, its neighbours one each, none lost."""
    shop["live_in"](time_zone)
    tz = zone(time_zone)
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz).astimezone(UTC)
    first = start - datetime.timedelta(minutes=30)  # 23:30 the day before
    for n in range(hours + 2):
        sell_at(shop, first + datetime.timedelta(hours=n))

    before, after = day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)
    rows = figures(shop, BY_PERIOD, date_from=str(before), date_to=str(after))

    assert [(row["period"], row["order_count"]) for row in rows] == [
        (str(before), 1), (str(day), hours), (str(after), 1),
    ]  # fmt: skip
    one_day = {"date_from": str(day), "date_to": str(day)}
    assert figures(shop, TOTAL, **one_day)["order_count"] == hours
    weeks = figures(shop, BY_PERIOD, interval="week", date_from=str(before), date_to=str(after))
    assert sum(week["order_count"] for week in weeks) == hours + 2


@pytest.mark.parametrize("time_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_weeks_and_months_are_local_too(shop, time_zone):
    shop["live_in"](time_zone)
    sell_at(shop, local(time_zone, 2026, 11, 30, 23, 30))  # a Monday, the month's last day
    sell_at(shop, local(time_zone, 2026, 11, 29, 23, 30))  # the Sunday before

    months = figures(shop, BY_PERIOD, interval="month", date_from="2026-11-01",
                     date_to="2026-12-31")  # fmt: skip
    weeks = figures(shop, BY_PERIOD, interval="week", date_from="2026-11-23",
                    date_to="2026-12-06")  # fmt: skip

    assert [(r["period"], r["order_count"]) for r in months] == [("2026-11-01", 2),
                                                                 ("2026-12-01", 0)]  # fmt: skip
    assert [(r["period"], r["order_count"]) for r in weeks] == [("2026-11-23", 1),
                                                                ("2026-11-30", 1)]  # fmt: skip


def test_the_default_range_ends_on_the_shops_today(shop):
    """10:30 UTC on 21 November is already the 22nd in Kiritimati: its last 30 days end there."""
    shop["live_in"]("Pacific/Kiritimati")
    sell_at(shop, local("Pacific/Kiritimati", 2026, 11, 22, 9, 0))
    shop["clock"].move_to(datetime.datetime(2026, 11, 21, 10, 30, tzinfo=UTC))

    rows = figures(shop, BY_PERIOD)

    assert rows[-1]["period"] == "2026-11-22" and rows[0]["period"] == "2026-10-24"
    assert rows[-1]["order_count"] == 1


# --- No sale between two days, none in both --------------------------------------------------

# Instants within four days either side of each daylight-saving change of 2026 (and around a
# plain day in the zones without one), to the minute.
CHANGES = {
    "Pacific/Auckland": [datetime.datetime(2026, 4, 4, 14, tzinfo=UTC),
                         datetime.datetime(2026, 9, 26, 14, tzinfo=UTC)],
    "America/New_York": [datetime.datetime(2026, 3, 8, 7, tzinfo=UTC),
                         datetime.datetime(2026, 11, 1, 6, tzinfo=UTC)],
    "Pacific/Kiritimati": [datetime.datetime(2026, 11, 21, 10, tzinfo=UTC)],
    "Pacific/Pago_Pago": [datetime.datetime(2026, 11, 21, 10, tzinfo=UTC)],
}  # fmt: skip
MINUTES = 4 * 24 * 60
sale_times = st.lists(st.integers(-MINUTES, MINUTES), min_size=1, max_size=25)


def _fulfilled(organization, location, product, instants) -> None:
    """Fulfilled orders of one unit each at these instants, as the service leaves them."""
    orders = SalesOrder.objects.bulk_create(
        SalesOrder(organization=organization, number=n, status=SalesOrder.Status.FULFILLED,
                   fulfilled_at=at, location=location)
        for n, at in enumerate(instants, start=1)
    )  # fmt: skip
    SalesOrderItem.objects.bulk_create(
        SalesOrderItem(order=order, product=product, quantity=1, unit_price=Decimal("1.00"),
                       unit_cost=Decimal("0.5000"), line_cost=Decimal("0.50"))
        for order in orders
    )  # fmt: skip


@settings(
    max_examples=200 if IN_CI else 50,
    deadline=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    time_zone=st.sampled_from(sorted(CHANGES)),
    change=st.integers(0, 1),
    offsets=sale_times,
    split=st.integers(-3, 3),
)
def test_no_sale_falls_between_two_days_or_into_both_when_a_range_is_split(
    time_zone, change, offsets, split
):
    """Sales at any minutes around a change: each counts on its local date and only there;
    a range split at any day adds up to the whole, and the days' rows to the range."""
    organization = OrganizationFactory(time_zone=time_zone)
    product = ProductFactory(organization=organization)
    location = stock_services.default_location(organization_id=organization.pk)
    moments = CHANGES[time_zone]
    center = moments[change % len(moments)]
    instants = [center + datetime.timedelta(minutes=m) for m in offsets]
    _fulfilled(organization, location, product, instants)
    tz = zone(time_zone)
    by_date = Counter(at.astimezone(tz).date() for at in instants)
    center_day = center.astimezone(tz).date()
    first = center_day - datetime.timedelta(days=5)
    last = center_day + datetime.timedelta(days=5)
    cut = center_day + datetime.timedelta(days=split)

    def count(date_from, date_to):
        return selectors.total_sales(
            organization=organization, date_from=date_from, date_to=date_to
        )["order_count"]

    whole = count(first, last)
    left = count(first, cut)
    right = count(cut + datetime.timedelta(days=1), last)
    assert whole == left + right == len(instants)
    assert left == sum(n for day, n in by_date.items() if day <= cut)
    rows = selectors.sales_over_time(organization=organization, date_from=first, date_to=last)
    assert {row["period"]: row["order_count"] for row in rows if row["order_count"]} == by_date
