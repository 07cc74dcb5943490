"""The shop's admin in a real browser (issue 15): a Corner Shop manager with admin access signs
in through the login form, opens the dashboard from the index, and the page's charts hold
exactly the figures the selectors give (read from the Chart.js objects, and each bar and point
drawn where its value says); another interval or date range re-draws the sales chart; a
movement recorded through the admin's form (the product picked in its autocomplete) is the
ledger's first row; and the Quokka Shop's changelists and objects stay out of reach.
Figures: tests/support/shops.py."""

import datetime
import re
from decimal import Decimal

import pytest

from core.dates import local_today
from inventory.models import Product
from reports import selectors
from stock.models import StockMovement
from tests.support.browser import read_chart, sign_in, y_ticks
from tests.support.shops import MARKER, build_corner_shop, build_quokka_shop

pytestmark = pytest.mark.browser

TODAY = local_today(None)


@pytest.fixture(autouse=True)
def _today_stays_today(clock_runs_from_noon_of):
    with clock_runs_from_noon_of(TODAY):
        yield


@pytest.fixture
def shops(organization, other_organization, manager_user):
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    return build_corner_shop(organization, manager_user), build_quokka_shop(other_organization)


def series(chart: dict) -> dict:
    return {dataset["label"]: dataset["data"] for dataset in chart["datasets"]}


def numbers(values) -> list[float]:
    return [float(Decimal(value)) for value in values]


def sales_series(*, date_from, date_to, interval, organization) -> tuple[list, dict]:
    rows = selectors.sales_over_time(organization=organization, date_from=date_from,
                                     date_to=date_to, interval=interval)  # fmt: skip
    return [row["period"].isoformat() for row in rows], {
        "Revenue": numbers(row["total_revenue"] for row in rows),
        "Net revenue": numbers(row["net_revenue"] for row in rows),
        "Cost": numbers(row["total_cost"] for row in rows),
        "Gross margin": numbers(row["gross_margin"] for row in rows),
        "Net margin": numbers(row["net_margin"] for row in rows),
    }


def test_the_dashboard_draws_the_selectors_figures(page, shops, organization):
    corner, _ = shops
    sign_in(page, "mike")
    page.click("#site-pages a:text('Dashboard')")
    page.wait_for_selector("#chart-sales")

    categories = read_chart(page, "chart-categories")
    assert categories["type"] == "bar"
    assert categories["labels"] == ["Bakery", "Dairy", "Empty shelf", "No category"]
    assert series(categories) == {"At price": [4.0, 35.0, 0.0, 20.0],
                                  "At cost": [2.0, 20.2, 0.0, 8.0]}  # fmt: skip
    stock = selectors.dashboard(organization_id=organization.pk, today=TODAY)
    assert series(categories)["At price"] == numbers(c["total_value"] for c in stock["categories"])

    locations = read_chart(page, "chart-locations")
    assert locations["labels"] == ["Back room", "Main"]
    assert series(locations) == {"At price": [15.5, 43.5], "At cost": [8.5, 21.7]}

    sales = read_chart(page, "chart-sales")
    assert sales["type"] == "line"
    labels, expected = sales_series(
        date_from=TODAY - datetime.timedelta(days=29), date_to=TODAY, interval="day",
        organization=organization,
    )  # fmt: skip
    assert sales["labels"] == labels and len(labels) == 30
    assert series(sales) == expected
    two_days_ago = labels.index((TODAY - datetime.timedelta(days=2)).isoformat())
    # revenue and net revenue, cost, gross and net margin (no returns)
    assert [values[two_days_ago] for values in series(sales).values()] == [3.0, 3.0, 1.8, 1.2,
                                                                           1.2]  # fmt: skip

    assert page.inner_text("#card-stock-value p") == "59.00 USD"
    assert page.inner_text("#card-margin p") == "2.20 USD"
    assert page.inner_text("#card-low-stock p") == "1"
    assert all(tick.endswith(" USD") for tick in y_ticks(page, "chart-sales"))
    assert page.errors == []

    page.click("#low-stock a:text('BREAD')")  # the most urgent low-stock product's page
    page.wait_for_selector("#product_form")
    assert f"/admin/inventory/product/{corner['bread'].pk}/change/" in page.url
    assert page.input_value("#id_name") == "Sourdough bread"


def test_another_interval_or_date_range_redraws_the_sales_chart(page, shops, organization):
    sign_in(page, "mike")
    page.goto("/admin/dashboard/")
    assert len(read_chart(page, "chart-sales")["labels"]) == 30

    with page.expect_navigation():
        page.select_option("#id_interval", "week")  # re-draws at once
    weekly = read_chart(page, "chart-sales")
    labels, expected = sales_series(
        date_from=TODAY - datetime.timedelta(days=29), date_to=TODAY, interval="week",
        organization=organization,
    )  # fmt: skip
    assert weekly["labels"] == labels
    assert all(datetime.date.fromisoformat(label).weekday() == 0 for label in labels)
    assert series(weekly) == expected
    assert sum(series(weekly)["Revenue"]) == 5.0  # 3.00 of milk and 2.00 of bread

    date_from, date_to = TODAY - datetime.timedelta(days=5), TODAY - datetime.timedelta(days=1)
    page.fill("#id_date_from", date_from.isoformat())
    page.fill("#id_date_to", date_to.isoformat())
    page.select_option("#id_interval", "day")  # the dates go with it
    page.wait_for_url(re.compile(r".*interval=day.*"))
    daily = read_chart(page, "chart-sales")
    labels, expected = sales_series(date_from=date_from, date_to=date_to, interval="day",
                                    organization=organization)  # fmt: skip
    assert daily["labels"] == labels and len(labels) == 5
    assert series(daily) == expected
    assert page.input_value("#id_date_from") == date_from.isoformat()

    page.fill("#id_date_from", "2020-01-01")  # four years and more by day: refused
    page.click("#dashboard-form input[type=submit]")
    page.wait_for_selector(".errornote")
    assert "At most 366 periods" in page.inner_text("#dashboard-form")
    assert page.locator("#chart-sales").count() == 0
    assert page.errors == []


def test_a_movement_recorded_in_the_admin_is_the_ledgers_first_row(page, shops):
    corner, _ = shops
    sign_in(page, "mike")
    page.goto("/admin/stock/stockmovement/")
    page.click("a:text('Record a movement')")
    page.wait_for_selector("#id_movement_type")

    page.click(".field-product .select2-selection")  # the product's autocomplete
    page.fill(".select2-search__field", "milk")
    page.click(".select2-results__option:text('MILK Milk 1 L')")
    page.select_option("#id_movement_type", "IN")
    page.select_option("#id_location", label="Back room")
    page.fill("#id_quantity", "6")
    page.fill("#id_unit_cost", "1.20")
    page.fill("#id_note", "Delivery from the dairy")
    page.click("input[type=submit][name=_save]")

    page.wait_for_selector("#result_list")
    assert "IN +6 of MILK at Back room recorded: 24 on hand in all." in page.inner_text(
        ".messagelist"
    )
    first = page.locator("#result_list tbody tr").first
    assert first.locator(".field-change").inner_text() == "IN +6"
    assert first.locator(".field-location").inner_text() == "Back room"
    assert first.locator(".field-balance_after").inner_text() == "24"
    assert first.locator(".field-unit_cost").inner_text() == "1.2000"
    assert first.locator(".field-short_note").inner_text() == "Delivery from the dairy"
    movement = StockMovement.objects.filter(product=corner["milk"]).latest("id")
    assert (movement.delta, movement.unit_cost, movement.performed_by.username) == (
        6, Decimal("1.2000"), "mike",
    )  # fmt: skip
    # 18 at 0.9000 and 6 at 1.20: (16.20 + 7.20) / 24 = 0.9750
    assert Product.objects.get(pk=corner["milk"].pk).average_cost == Decimal("0.9750")
    fits = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('#changelist .results').scrollWidth,"
        " document.querySelector('#changelist .results').clientWidth]"
    )
    assert fits[0] <= fits[1] and fits[2] <= fits[3], f"the ledger does not fit 1400 px: {fits}"
    assert page.errors == []


def test_another_organizations_changelists_and_objects_are_out_of_reach(page, shops):
    _, quokka = shops
    sign_in(page, "mike")
    for changelist in ("inventory/product", "inventory/category", "stock/location",
                       "stock/stocklevel", "stock/stockmovement", "sales/salesorder"):  # fmt: skip
        page.goto(f"/admin/{changelist}/?q={MARKER}")
        assert page.locator("#result_list tbody tr").count() == 0, changelist
        page.goto(f"/admin/{changelist}/")
        assert page.locator("#result_list tbody tr").count() > 0, changelist
        assert MARKER not in page.content().lower(), changelist

    cheese = quokka["cheese"]
    page.goto(f"/admin/inventory/product/{cheese.pk}/change/")
    assert page.url.endswith("/admin/")  # "... doesn't exist": back to the index
    assert "doesn’t exist" in page.inner_text(".messagelist")
    assert MARKER not in page.content().lower()
    response = page.goto(f"/admin/stock/location/{quokka['yard'].pk}/change/")
    assert response.ok and page.url.endswith("/admin/")
    page.goto(f"/admin/stock/stockmovement/record/?product={cheese.pk}")
    assert MARKER not in page.content().lower()  # not offered, not named

    page.goto(f"/admin/dashboard/?organization={cheese.organization_id}")
    assert page.locator("h1").inner_text() == "Dashboard: Corner Shop"
    assert MARKER not in page.content().lower()
    assert read_chart(page, "chart-locations")["labels"] == ["Back room", "Main"]


def test_an_org_admin_moves_the_shop_and_its_currency_in_the_admin(page, shops, organization,
                                                                  admin_user):  # fmt: skip
    """The organization's page through the admin's form: the dashboard then writes every
    amount, on its cards and along its charts' axes, in the new currency, and its days are
    the new zone's."""
    admin_user.admin_access = True
    admin_user.save(update_fields=["admin_access"])
    sign_in(page, "alice")
    page.goto("/admin/users/organization/")
    page.click("#result_list a:text('Corner Shop')")
    page.wait_for_selector("#id_time_zone")
    page.select_option("#id_time_zone", "Pacific/Kiritimati")
    page.select_option("#id_currency", "NZD")
    page.select_option("#id_digest_hour", "6")
    page.click("input[type=submit][name=_save]")
    page.wait_for_selector(".messagelist")

    organization.refresh_from_db()
    assert (organization.time_zone, organization.currency, organization.digest_hour) == (
        "Pacific/Kiritimati", "NZD", 6,
    )  # fmt: skip
    page.goto("/admin/dashboard/")
    assert page.inner_text("#card-stock-value p") == "59.00 NZD"
    assert page.inner_text("#card-revenue p") == "5.00 NZD"
    for canvas in ("chart-categories", "chart-locations", "chart-sales"):
        read_chart(page, canvas)
        ticks = y_ticks(page, canvas)
        assert ticks and all(tick.endswith(" NZD") for tick in ticks), (canvas, ticks)
    assert page.input_value("#id_date_to") == local_today(organization).isoformat()
    assert page.errors == []
