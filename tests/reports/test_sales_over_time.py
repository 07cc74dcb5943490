"""GET /api/dashboard/sales-over-time/ (API.md, Reports): one row per day, week or month of
the range, empty periods included, oldest first, against hand-computed figures."""

import datetime
from decimal import Decimal

import pytest

from core.dates import local_today
from sales.models import SalesOrder
from tests.factories import ProductFactory
from tests.support.shops import sales_order

pytestmark = pytest.mark.django_db
URL = "/api/dashboard/sales-over-time/"
UTC = datetime.UTC
FULFILLED = SalesOrder.Status.FULFILLED


def at(day: str, time: str = "12:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def empty(period: str) -> dict:
    return row(period, 0, 0, "0.00", "0.00", "0.00")


def row(period, orders, quantity, revenue, cost, margin, returned=("0.00", "0.00")) -> dict:
    """A period's figures; `returned`: the amount and the restocked cost of its returns."""
    amount, returned_cost = returned
    net_revenue = Decimal(revenue) - Decimal(amount)
    return {
        "period": period,
        "order_count": orders,
        "total_quantity": quantity,
        "total_revenue": revenue,
        "total_cost": cost,
        "gross_margin": margin,
        "returned_amount": amount,
        "returned_cost": returned_cost,
        "net_revenue": f"{net_revenue:.2f}",
        "net_margin": f"{net_revenue - Decimal(cost) + Decimal(returned_cost):.2f}",
    }


@pytest.fixture
def autumn(organization, other_organization):
    """Sales around a week's and a month's edges (2026-11-01 is a Sunday, 11-02 a Monday)."""
    tea = ProductFactory(organization=organization, sku="TEA", price="3.00")
    jam = ProductFactory(organization=organization, sku="JAM", price="2.00")
    sales = [
        # Last second of October: 2 tea at 3.00 (cost 1.2345 -> 2.47)
        ("2026-10-31", "23:59:59", [(tea, 2, "3.00", "1.2345")]),
        # Sunday 1 November: two orders, 1 tea + 4 jam, and 1 jam at a discount
        ("2026-11-01", "00:00", [(tea, 1, "3.00", "1.2345"), (jam, 4, "2.00", "0.5000")]),
        ("2026-11-01", "18:30", [(jam, 1, "1.50", "0.5000")]),
        # Monday 2 November: 3 tea
        ("2026-11-02", "08:00", [(tea, 3, "3.00", "1.3000")]),
        # Thursday 5 November, first instant: 10 jam
        ("2026-11-05", "00:00", [(jam, 10, "2.00", "0.4000")]),
    ]
    for number, (day, time, lines) in enumerate(sales, start=1):
        sales_order(organization, number=number, status=FULFILLED, fulfilled_at=at(day, time),
               lines=lines)  # fmt: skip
    # Neither a pending order nor another organization's sale counts.
    sales_order(organization, number=90, status=SalesOrder.Status.PENDING, lines=[(tea, 50, "3")])
    rival = ProductFactory(organization=other_organization, sku="RIVAL")
    sales_order(other_organization, number=1, status=FULFILLED, fulfilled_at=at("2026-11-01"),
           lines=[(rival, 100, "1.00", "0.50")])  # fmt: skip


def test_days_with_the_empty_ones(admin_client, autumn):
    response = admin_client.get(URL, {"date_from": "2026-10-31", "date_to": "2026-11-06"})

    assert response.status_code == 200
    assert response.json() == [
        row("2026-10-31", 1, 2, "6.00", "2.47", "3.53"),
        # 3.00 + 8.00 + 1.50; 1.23 (1.2345 -> 1.23) + 2.00 + 0.50
        row("2026-11-01", 2, 6, "12.50", "3.73", "8.77"),
        row("2026-11-02", 1, 3, "9.00", "3.90", "5.10"),
        empty("2026-11-03"),
        empty("2026-11-04"),
        row("2026-11-05", 1, 10, "20.00", "4.00", "16.00"),
        empty("2026-11-06"),
    ]


def test_weeks_start_on_monday_and_count_only_the_range(admin_client, autumn):
    response = admin_client.get(
        URL, {"interval": "week", "date_from": "2026-10-31", "date_to": "2026-11-20"}
    )

    assert response.json() == [
        # the week of Monday 26 October: only its Saturday and Sunday are in the range
        row("2026-10-26", 3, 8, "18.50", "6.20", "12.30"),
        row("2026-11-02", 2, 13, "29.00", "7.90", "21.10"),
        empty("2026-11-09"),
        empty("2026-11-16"),
    ]


def test_months(admin_client, autumn):
    response = admin_client.get(
        URL, {"interval": "month", "date_from": "2026-09-15", "date_to": "2026-11-30"}
    )

    assert response.json() == [
        empty("2026-09-01"),
        row("2026-10-01", 1, 2, "6.00", "2.47", "3.53"),
        row("2026-11-01", 4, 19, "41.50", "11.63", "29.87"),
    ]


def test_a_day_of_a_shop_in_utc_is_a_utc_day(admin_client, autumn):
    (day,) = admin_client.get(URL, {"date_from": "2026-11-05", "date_to": "2026-11-05"}).json()
    assert day == row("2026-11-05", 1, 10, "20.00", "4.00", "16.00")
    (day,) = admin_client.get(URL, {"date_from": "2026-10-31", "date_to": "2026-10-31"}).json()
    assert day["order_count"] == 1  # 23:59:59 UTC is still the 31st


def test_the_last_thirty_days_by_default(admin_client, organization):
    tea = ProductFactory(organization=organization, sku="TEA", price="1.00")
    today = local_today(None)
    sales_order(organization, number=1, status=FULFILLED, lines=[(tea, 2, "1.00", "0.25")],
           fulfilled_at=at(today.isoformat(), "00:00"))  # fmt: skip
    sales_order(organization, number=2, status=FULFILLED, lines=[(tea, 7, "1.00", "0.25")],
           fulfilled_at=at((today - datetime.timedelta(days=30)).isoformat()))  # fmt: skip

    rows = admin_client.get(URL).json()

    assert [r["period"] for r in rows] == [
        (today - datetime.timedelta(days=n)).isoformat() for n in range(29, -1, -1)
    ]
    assert sum(r["total_quantity"] for r in rows) == 2  # 30 days ago is outside
    assert rows[-1] == row(today.isoformat(), 1, 2, "2.00", "0.50", "1.50")
    start = today - datetime.timedelta(days=29)
    weeks = admin_client.get(URL, {"interval": "week"}).json()
    assert weeks[0]["period"] == (start - datetime.timedelta(days=start.weekday())).isoformat()
    assert sum(week["total_quantity"] for week in weeks) == 2


def test_at_most_366_periods(admin_client):
    year = admin_client.get(URL, {"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert year.status_code == 200 and len(year.json()) == 366  # a leap year, by day
    too_long = admin_client.get(URL, {"date_from": "2024-01-01", "date_to": "2025-01-01"})
    assert too_long.status_code == 400
    assert "date_from" in too_long.json()
    months = admin_client.get(
        URL, {"interval": "month", "date_from": "2000-01-01", "date_to": "2030-06-30"}
    )
    assert months.status_code == 200 and len(months.json()) == 366


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"interval": "year"}, "interval"),
        ({"interval": ""}, None),  # empty means "not given": the default
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-11-02", "date_to": "2026-11-01"}, "date_to"),
        ({"date_to": "0001-01-05"}, None),  # reaches back to the first day there is
        ({"date_from": "0001-01-01", "date_to": "0001-01-01", "interval": "week"}, None),
        ({"date_from": "9999-12-01", "date_to": "9999-12-31", "interval": "month"}, None),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31", "interval": "month"}, "date_from"),
        ({"date_to": "%00"}, "date_to"),
    ],
)
def test_bad_parameters_are_a_400_and_odd_ones_work(admin_client, query, field):
    response = admin_client.get(URL, query)
    if field is None:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == 400
        assert field in response.json()


def test_costs_are_null_for_the_sales_role(sales_client, autumn):
    rows = sales_client.get(URL, {"date_from": "2026-11-01", "date_to": "2026-11-02"}).json()
    assert [r["total_revenue"] for r in rows] == ["12.50", "9.00"]
    assert {(r["total_cost"], r["gross_margin"]) for r in rows} == {(None, None)}
    assert {(r["returned_cost"], r["net_margin"]) for r in rows} == {(None, None)}
    assert [r["net_revenue"] for r in rows] == ["12.50", "9.00"]


def test_one_query_for_the_series(
    admin_client, autumn, django_assert_max_num_queries, cache_off_the_database
):
    # authentication, role, the caller's permissions (2), the series
    with django_assert_max_num_queries(5):
        response = admin_client.get(URL, {"date_from": "2025-12-01", "date_to": "2026-11-30"})
    assert len(response.json()) == 365


@pytest.fixture
def cache_off_the_database(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
