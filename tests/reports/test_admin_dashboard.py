"""The admin's dashboard (`/admin/dashboard/`, issue 15): an organization's staff see their
stock value by category and by location, their sales and margin over time and their most
urgent low-stock and expiring products, drawn from the API's selectors; another
organization's figures never; a superuser chooses the organization; cost figures only for
who may see costs; a bad date or interval is a form error, never a 500. The charts' drawing
is checked in a real browser (tests/browser)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core.dates import local_today
from inventory.selectors import stock_keeping_products
from reports import selectors
from stock.selectors import most_urgent_expiring
from tests.factories import UserFactory
from tests.support.shops import MARKER, build_corner_shop, build_quokka_shop
from users.models import Role

DASHBOARD = reverse("admin:dashboard")
TODAY = local_today(None)


@pytest.fixture(autouse=True)
def _today_stays_today(clock_runs_from_noon_of):
    with clock_runs_from_noon_of(TODAY):
        yield


# The session, the user, its role (read by each admin check) and permissions, its
# organization; the selectors: dashboard 5, locations 1, sales 3, low stock 1, expiring 2.
QUERIES = 19


def ago(days: int) -> str:
    return (TODAY - datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def manager(manager_user):
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    return manager_user


@pytest.fixture
def shop(organization, manager):
    return build_corner_shop(organization, manager)


@pytest.fixture
def rival(other_organization):
    return build_quokka_shop(other_organization)


@pytest.fixture
def signed_in(client, manager, shop, rival):
    client.force_login(manager)
    return client


@pytest.fixture
def root(client, db):
    user = UserFactory(username="root", organization=None, is_staff=True, is_superuser=True,
                       role=None)  # fmt: skip
    client.force_login(user)
    return client


def chart_data(response) -> dict:
    """The figures the page hands to its charts (the json_script the script draws from)."""
    html = response.content.decode()
    start = html.index('<script id="dashboard-data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def money(values) -> list[str]:
    return [f"{Decimal(value):.2f}" for value in values]


def test_the_index_leads_to_the_dashboard_first(signed_in):
    html = signed_in.get(reverse("admin:index"), secure=True).content.decode()
    assert f'<a href="{DASHBOARD}">Dashboard</a>' in html
    assert html.index(DASHBOARD) < html.index('class="app-inventory module')


def test_the_charts_are_the_worked_out_figures(signed_in):
    response = signed_in.get(
        DASHBOARD, {"date_from": ago(13), "date_to": ago(0), "interval": "day"}, secure=True
    )

    assert response.status_code == 200
    data = chart_data(response)
    assert data["costs"] is True
    assert data["categories"] == {
        "labels": ["Bakery", "Dairy", "Empty shelf", "No category"],
        "value": ["4.00", "35.00", "0.00", "20.00"],
        "cost_value": ["2.00", "20.20", "0.00", "8.00"],
    }
    assert data["locations"] == {
        "labels": ["Back room", "Main"],
        "value": ["15.50", "43.50"],
        "cost_value": ["8.50", "21.70"],
    }
    sales = data["sales"]
    assert sales["interval"] == "day"
    assert sales["labels"] == [ago(days) for days in range(13, -1, -1)]
    by_day = dict(zip(sales["labels"], zip(sales["revenue"], sales["cost"], sales["margin"],
                                           strict=True), strict=True))  # fmt: skip
    assert by_day[ago(2)] == ("3.00", "1.80", "1.20")
    assert by_day[ago(9)] == ("2.00", "1.00", "1.00")
    assert {day: figures for day, figures in by_day.items() if day not in (ago(2), ago(9))} == {
        day: ("0.00", "0.00", "0.00") for day in sales["labels"] if day not in (ago(2), ago(9))
    }


def test_the_cards_and_tables_are_the_worked_out_figures(signed_in, shop):
    response = signed_in.get(DASHBOARD, {"date_from": ago(13), "date_to": ago(0)}, secure=True)

    cards = {card["name"]: card["value"] for card in response.context["figures"]["cards"]}
    assert {name: str(value) for name, value in cards.items()} == {
        "stock-value": "59.00", "stock-cost": "30.20", "expired-value": "0.00", "low-stock": "1",
        "out-of-stock": "0", "revenue": "5.00", "cost": "2.80", "margin": "2.20",
        "returned": "0.00", "net-revenue": "5.00", "net-margin": "2.20",
    }  # fmt: skip
    html = response.content.decode()
    # Amounts carry the organization's currency; counts do not.
    assert '<div class="module dashboard-card" id="card-stock-value">' in html
    assert '<p>59.00 <span class="currency">USD</span></p>' in html
    assert '<p>2.20 <span class="currency">USD</span></p>' in html and "<p>1</p>" in html
    bread = reverse("admin:inventory_product_change", args=[shop["bread"].pk])
    yoghurt = reverse("admin:inventory_product_change", args=[shop["yoghurt"].pk])
    low = html[html.index('id="low-stock"') : html.index('id="expiring"')]
    assert (
        f'<tr><td><a href="{bread}">BREAD</a></td><td>Sourdough bread</td><td>2</td><td>5</td>'
        "<td>3</td></tr>" in low
    )
    expiring = html[html.index('id="expiring"') :]
    in_three_days = (TODAY + datetime.timedelta(days=3)).isoformat()
    assert (
        f'<tr><td><a href="{yoghurt}">YOG</a></td><td>Yoghurt</td><td>10</td>'
        f"<td>{in_three_days}</td></tr>" in expiring
    )
    products = reverse("admin:inventory_product_changelist")
    assert f'href="{products}?stock=low"' in html and f'href="{products}?expiry=soon"' in html


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_every_figure_is_the_api_selectors(signed_in, organization, interval):
    """Whatever the interval: the same rows as /api/dashboard/ and its sales over time."""
    params = {"date_from": ago(70), "date_to": ago(0), "interval": interval}
    response = signed_in.get(DASHBOARD, params, secure=True)

    data = chart_data(response)
    stock = selectors.dashboard(organization_id=organization.pk, today=TODAY)
    assert data["currency"] == "USD"
    assert data["categories"]["value"] == money(c["total_value"] for c in stock["categories"])
    assert data["categories"]["cost_value"] == money(
        c["total_cost_value"] for c in stock["categories"]
    )
    locations = selectors.location_figures(organization_id=organization.pk)
    assert data["locations"]["labels"] == [location["name"] for location in locations]
    assert data["locations"]["value"] == money(row["total_value"] for row in locations)
    periods = selectors.sales_over_time(
        organization=organization, date_from=TODAY - datetime.timedelta(days=70),
        date_to=TODAY, interval=interval,
    )  # fmt: skip
    assert data["sales"]["labels"] == [row["period"].isoformat() for row in periods]
    assert data["sales"]["revenue"] == money(row["total_revenue"] for row in periods)
    assert data["sales"]["cost"] == money(row["total_cost"] for row in periods)
    assert data["sales"]["margin"] == money(row["gross_margin"] for row in periods)
    assert data["sales"]["net_revenue"] == money(row["net_revenue"] for row in periods)
    assert data["sales"]["net_margin"] == money(row["net_margin"] for row in periods)
    figures = response.context["figures"]
    products = stock_keeping_products(organization_id=organization.pk)
    assert [p.pk for p in figures["low_stock"]] == [
        p.pk for p in selectors.low_stock_list(products, today=TODAY)[:10]
    ]
    assert [p.pk for p in figures["expiring"]] == [
        p.pk
        for p in most_urgent_expiring(
            products, days=7, organization_id=organization.pk, today=TODAY
        )[:10]
    ]


def test_the_locations_add_up_to_the_dashboards_totals(organization, shop):
    locations = selectors.location_figures(organization_id=organization.pk)
    stock = selectors.dashboard(organization_id=organization.pk, today=TODAY)
    assert sum(row["total_value"] for row in locations) == stock["total_inventory_value"]
    assert sum(row["total_cost_value"] for row in locations) == stock["total_cost_value"]
    assert sum(row["total_quantity"] for row in locations) == stock["total_quantity"]


def test_an_empty_location_is_a_bar_at_zero_and_an_archived_one_none(organization, shop):
    from stock import services as stock_services

    stock_services.create_location(organization=organization, name="Attic")
    shed = stock_services.create_location(organization=organization, name="Shed")
    stock_services.record_movement(product=shop["candle"], movement_type="IN", quantity=1,
                                   user=None, location=shed)  # fmt: skip
    stock_services.record_movement(product=shop["candle"], movement_type="OUT", quantity=1,
                                   user=None, location=shed)  # fmt: skip
    stock_services.delete_location(location=shed)  # it has history: archived

    rows = selectors.location_figures(organization_id=organization.pk)

    assert [(row["name"], row["total_quantity"], row["total_value"]) for row in rows] == [
        ("Attic", 0, Decimal("0")), ("Back room", 15, Decimal("15.50")),
        ("Main", 19, Decimal("43.50")),
    ]  # fmt: skip


def test_the_dates_and_interval_used_are_shown(signed_in):
    """With nothing asked: the API's defaults (the last 30 days, by day), in the form."""
    response = signed_in.get(DASHBOARD, secure=True)

    html = response.content.decode()
    assert f'name="date_from" value="{ago(29)}"' in html
    assert f'name="date_to" value="{ago(0)}"' in html
    assert '<option value="day" selected>' in html
    assert len(chart_data(response)["sales"]["labels"]) == 30


def test_another_organizations_figures_never_appear(signed_in, other_organization, shop):
    """Not its products, locations, categories or sales, not even asked for by id."""
    for params in ({}, {"organization": other_organization.pk}, {"interval": "month"}):
        response = signed_in.get(DASHBOARD, params, secure=True)
        assert response.status_code == 200
        assert MARKER not in response.content.decode().lower()
        data = chart_data(response)
        assert data["locations"]["labels"] == ["Back room", "Main"]
        assert response.context["organization"].name == "Corner Shop"
        assert "organization" not in response.context["form"].fields


def test_a_superuser_chooses_the_organization(root, organization, other_organization, shop,
                                              rival):  # fmt: skip
    first = root.get(DASHBOARD, secure=True)
    assert first.status_code == 200
    assert first.context["figures"] is None
    assert 'id="choose-organization"' in first.content.decode()
    assert 'id="dashboard-data"' not in first.content.decode()
    options = first.context["form"].fields["organization"].queryset
    assert {o.name for o in options} == {"Corner Shop", "Rival Shop"}

    # Cheese: 7 at Main (10 moved there, 3 sold), 30 in the yard, at 900.00 (cost 300.00);
    # cream: 6 at Main at 700.00 (no cost).
    theirs = root.get(DASHBOARD, {"organization": other_organization.pk}, secure=True)
    assert theirs.context["organization"] == other_organization
    assert chart_data(theirs)["locations"] == {
        "labels": ["Main", "Quokka yard"], "value": ["10500.00", "27000.00"],
        "cost_value": ["2100.00", "9000.00"],
    }  # fmt: skip
    ours = root.get(DASHBOARD, {"organization": organization.pk}, secure=True)
    assert chart_data(ours)["locations"]["labels"] == ["Back room", "Main"]
    assert MARKER not in ours.content.decode().lower().replace("rival shop", "")


def test_a_superuser_of_an_organization_starts_with_theirs(client, organization, shop, rival):
    client.force_login(UserFactory(username="root", organization=organization, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    response = client.get(DASHBOARD, secure=True)
    assert response.context["organization"] == organization
    assert f'<option value="{organization.pk}" selected>' in response.content.decode()


def test_cost_figures_only_for_who_may_see_costs(signed_in, manager):
    """Sales reps cannot sign in to the admin, but the rule is the API's: without the cost
    permission, no cost figure is on the page, not even in the data."""
    Group.objects.get(name=Role.MANAGER).permissions.remove(
        Permission.objects.get(codename="view_costs")
    )

    response = signed_in.get(DASHBOARD, secure=True)

    data = chart_data(response)
    assert data["costs"] is False
    assert "cost_value" not in data["categories"] and "cost_value" not in data["locations"]
    assert set(data["sales"]) == {"interval", "labels", "revenue", "net_revenue"}
    names = {card["name"] for card in response.context["figures"]["cards"]}
    assert names.isdisjoint({"stock-cost", "cost", "margin", "net-margin"})
    html = response.content.decode()
    assert "30.20" not in html and "Gross margin" not in html and "at cost" not in html.lower()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-13-01"}, "date_to"),
        ({"date_from": "2026-11-20", "date_to": "2026-11-01"}, "date_to"),
        ({"interval": "year"}, "interval"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02", "interval": "day"}, "date_from"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31", "interval": "month"}, "date_from"),
        ({"date_from": "99999-01-01"}, "date_from"),
        ({"date_to": "\x00"}, "date_to"),
    ],
    ids=[
        "not a date",
        "no such month",
        "backwards",
        "no such interval",
        "367 days",
        "8000 years of months",
        "five-digit year",
        "nul",
    ],  # fmt: skip
)
def test_bad_dates_or_interval_are_form_errors_never_a_500(signed_in, params, field):
    response = signed_in.get(DASHBOARD, params, secure=True)

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert response.context["figures"] is None
    assert 'class="errornote"' in response.content.decode()


def test_more_than_366_periods_is_refused_like_the_api(signed_in, admin_client):
    params = {"date_from": "2025-01-01", "date_to": "2026-01-02", "interval": "day"}
    page = signed_in.get(DASHBOARD, params, secure=True)
    api = admin_client.get("/api/dashboard/sales-over-time/", params)
    assert api.status_code == 400
    assert page.context["form"].errors["date_from"] == api.json()["date_from"]
    ok = signed_in.get(DASHBOARD, {**params, "date_to": "2026-01-01"}, secure=True)
    assert len(chart_data(ok)["sales"]["labels"]) == 366


def test_a_superusers_bad_organization_is_a_form_error(root, shop):
    for value in ("abc", "99999999999999999999", "-1", str(10**9)):
        response = root.get(DASHBOARD, {"organization": value}, secure=True)
        assert response.status_code == 200
        assert "organization" in response.context["form"].errors


def test_only_who_may_use_the_admin_sees_it(client, organization, shop):
    """Sign-in first; an org user without admin access, or a sales user, never."""
    assert client.get(DASHBOARD, secure=True).status_code == 302
    for user in (
        UserFactory(username="no-access", organization=organization, role=Role.MANAGER),
        UserFactory(username="sam", organization=organization, role=Role.SALES, is_staff=True),
    ):
        client.force_login(user)
        response = client.get(DASHBOARD, secure=True)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_query_count_does_not_grow_with_the_shop(signed_in, organization, manager, shop,
                                                      django_assert_max_num_queries):  # fmt: skip
    """A constant number of queries, however many products, categories, locations and sales:
    the session and the user, then the selectors' own."""
    from stock import services as stock_services
    from tests.factories import CategoryFactory, ProductFactory
    from tests.support.shops import days_ago, sell

    params = {"date_from": ago(60), "date_to": ago(0), "interval": "week"}
    with django_assert_max_num_queries(QUERIES) as before:
        signed_in.get(DASHBOARD, params, secure=True)
    for n in range(5):
        category = CategoryFactory(organization=organization, name=f"Aisle {n}")
        stock_services.create_location(organization=organization, name=f"Store {n}")
        product = ProductFactory(organization=organization, category=category, price="3.00",
                                 low_stock_threshold=50)  # fmt: skip
        stock_services.record_movement(product=product, movement_type="IN", quantity=20,
                                       user=manager)  # fmt: skip
        sell(organization, manager, product, 1, on=days_ago(n * 7))

    with django_assert_max_num_queries(QUERIES) as after:
        response = signed_in.get(DASHBOARD, params, secure=True)

    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(response.context["figures"]["low_stock"]) == 6
