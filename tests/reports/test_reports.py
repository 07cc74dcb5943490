"""Dashboard and sales reports: every figure against hand-computed values."""

import datetime
from decimal import Decimal

import pytest

from inventory.models import Product
from reports import selectors
from sales.models import SalesOrder
from stock.services import default_location, record_movement
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.support.api import client_for
from tests.support.shops import sales_order

UTC = datetime.UTC
TODAY = datetime.date(2026, 11, 21)


@pytest.fixture
def catalogue(organization, other_organization, stocked):
    """A small shop whose figures are computed by hand in the tests below. Stock is valued at
    cost from the opening stock's cost_price and, for the lamp, a delivery at another cost."""
    drinks = CategoryFactory(organization=organization, name="Drinks")
    snacks = CategoryFactory(organization=organization, name="Snacks")
    empty = CategoryFactory(organization=organization, name="Empty shelf")
    org = {"organization": organization}
    products = {
        # value 25.00, at cost 12.00, not low (10 > 3)
        "cola": stocked(
            10,
            **org,
            sku="COLA",
            category=drinks,
            price="2.50",
            cost_price="1.20",
            low_stock_threshold=3,
        ),  # fmt: skip
        # out of stock and low (0 <= 0)
        "water": stocked(0, **org, sku="WATER", category=drinks, price="1.99", cost_price="0.80"),
        # value 0.40, at cost 0.20, low (4 <= 5), expired yesterday
        "crisps": stocked(
            4,
            **org,
            sku="CRISPS",
            category=snacks,
            price="0.10",
            cost_price="0.05",
            low_stock_threshold=5,
            expiration_date=TODAY - datetime.timedelta(days=1),
        ),
        # no category: value 59.97, not low (3 > 1); 1 at 12.50 then 2 at 13.33: average
        # 39.16 / 3 = 13.0533, at cost 3 * 13.0533 = 39.1599
        "lamp": stocked(
            1, **org, sku="LAMP", price="19.99", cost_price="12.50", low_stock_threshold=1
        ),  # fmt: skip
        # no category: value 0.07, expires today (expired)
        "milk": stocked(7, **org, sku="MILK", price="0.01", expiration_date=TODAY),
    }
    # A product with variations keeps no stock itself; its variation counts (value 10.00, low).
    shirt = ProductFactory(**org, sku="SHIRT", category=drinks, price="99.00", has_variations=True)
    products["shirt"] = shirt
    products["shirt_m"] = stocked(
        2, **org, sku="SHIRT-M", parent=shirt, category=drinks, price="5.00", cost_price="2.25",
        low_stock_threshold=2,
    )  # at cost 4.50  # fmt: skip
    record_movement(product=products["lamp"], movement_type="IN", quantity=2,
                    unit_cost=Decimal("13.33"), user=None)  # fmt: skip
    # Archived products disappear from reports, even with stock.
    archived = stocked(100, **org, sku="OLD", category=snacks, price="1000.00")
    Product.objects.filter(pk=archived.pk).update(is_archived=True)
    products["archived"] = archived
    # Another organization's stock is never counted.
    stocked(50, organization=other_organization, sku="RIVAL", price="3.00", low_stock_threshold=99)
    products["categories"] = {"drinks": drinks, "snacks": snacks, "empty": empty}
    return products


@pytest.fixture
def cache_off_the_database(settings):
    """Without Redis the throttle counters live in a database table; keep them out of the
    query counts, which pin the report's own queries."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def frozen_today(clock):
    """The catalogue's dates are relative to TODAY: the clock stops on it (at noon UTC)."""
    return TODAY


def test_dashboard_figures_match_hand_computed_values(frozen_today, admin_client, catalogue):
    response = admin_client.get("/api/dashboard/")

    assert response.status_code == 200
    cats = catalogue["categories"]
    assert response.json() == {
        "currency": "USD",
        "total_products": 6,
        "total_quantity": 26,
        "total_inventory_value": "95.44",
        "total_cost_value": "55.86",  # 12.00 + 0.20 + 39.1599 + 4.50
        "expired_stock_value": "0.47",
        "low_stock_count": 3,
        "out_of_stock_count": 1,
        "categories": [
            {
                "id": cats["drinks"].pk,
                "name": "Drinks",
                "product_count": 3,
                "total_quantity": 12,
                "total_value": "35.00",
                "total_cost_value": "16.50",
            },
            {
                "id": cats["empty"].pk,
                "name": "Empty shelf",
                "product_count": 0,
                "total_quantity": 0,
                "total_value": "0.00",
                "total_cost_value": "0.00",
            },
            {
                "id": cats["snacks"].pk,
                "name": "Snacks",
                "product_count": 1,
                "total_quantity": 4,
                "total_value": "0.40",
                "total_cost_value": "0.20",
            },
            {
                "id": None,
                "name": None,
                "product_count": 2,
                "total_quantity": 10,
                "total_value": "60.04",
                "total_cost_value": "39.16",
            },
        ],
    }


def test_dashboard_of_an_empty_organization_is_zero(admin_client):
    response = admin_client.get("/api/dashboard/")

    assert response.status_code == 200
    assert response.json() == {
        "currency": "USD",
        "total_products": 0,
        "total_quantity": 0,
        "total_inventory_value": "0.00",
        "total_cost_value": "0.00",
        "expired_stock_value": "0.00",
        "low_stock_count": 0,
        "out_of_stock_count": 0,
        "categories": [],
    }


def test_dashboard_sums_are_exact_to_the_cent(admin_client, organization, stocked):
    # Ten times 0.10 plus 0.20 is exactly 1.20 (no binary floating point in money).
    for _ in range(10):
        stocked(1, organization=organization, price="0.10")
    stocked(1, organization=organization, price="0.20")
    stocked(3, organization=organization, price="33.33")

    body = admin_client.get("/api/dashboard/").json()

    assert body["total_inventory_value"] == "101.19"
    assert Decimal(body["total_inventory_value"]) == Decimal("1.00") + Decimal("0.20") + Decimal(
        "99.99"
    )


def test_dashboard_is_scoped_to_the_callers_organization(other_admin_client, catalogue):
    body = other_admin_client.get("/api/dashboard/").json()

    assert body["total_products"] == 1
    assert body["total_inventory_value"] == "150.00"
    assert body["low_stock_count"] == 1
    assert [c["id"] for c in body["categories"]] == [None]


def test_every_role_may_read_the_dashboard_but_not_anonymous_or_roleless(
    admin_client, manager_client, sales_client, api_client, organization
):
    for client in (admin_client, manager_client, sales_client):
        for path in (
            "/api/dashboard/",
            "/api/dashboard/low-stock/",
            "/api/dashboard/total-sales/",
            "/api/dashboard/top-products/",
        ):
            assert client.get(path).status_code == 200, path
    roleless = client_for(UserFactory(organization=organization, role=""))
    assert roleless.get("/api/dashboard/").status_code == 403
    assert roleless.get("/api/dashboard/low-stock/").status_code == 403
    assert api_client.get("/api/dashboard/").status_code == 401
    assert api_client.get("/api/dashboard/top-products/").status_code == 401


def test_dashboard_query_count_does_not_grow_with_products(
    admin_client, organization, stocked, django_assert_max_num_queries, cache_off_the_database
):
    categories = [CategoryFactory(organization=organization) for _ in range(5)]
    for i in range(40):
        stocked(i % 4, organization=organization, category=categories[i % 5], low_stock_threshold=2)

    # authentication, role, the caller's permissions (whether it sees costs: 2), totals,
    # expired value (of products, of lots), figures per category, category names
    with django_assert_max_num_queries(9):
        response = admin_client.get("/api/dashboard/")
    assert response.status_code == 200
    assert response.json()["total_products"] == 40
    location = default_location(organization_id=organization.pk)
    # ... and at one location: authentication, role, the location, permissions, totals,
    # categories, names
    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/dashboard/", {"location": location.pk})
    assert response.status_code == 200
    assert response.json()["total_products"] == 30  # the ten never stocked are not kept there


def test_low_stock_list_is_paginated_most_urgent_first(frozen_today, admin_client, catalogue):
    response = admin_client.get("/api/dashboard/low-stock/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    # shortfall below the threshold: water 0, crisps 1, shirt-m 0 -> crisps first, then by id
    assert [p["sku"] for p in body["results"]] == ["CRISPS", "WATER", "SHIRT-M"]
    crisps = body["results"][0]
    assert crisps["quantity"] == 4
    assert crisps["low_stock_threshold"] == 5
    assert crisps["is_low_stock"] is True
    assert crisps["is_expired"] is True
    assert crisps["stock_value"] == "0.40"
    assert crisps["price"] == "0.10"
    assert crisps["category_name"] == "Snacks"

    page = admin_client.get("/api/dashboard/low-stock/?page_size=2&page=2").json()
    assert [p["sku"] for p in page["results"]] == ["SHIRT-M"]


def test_low_stock_list_is_scoped_and_query_count_is_constant(
    admin_client,
    other_admin_client,
    organization,
    stocked,
    django_assert_max_num_queries,
    cache_off_the_database,
):
    for i in range(30):
        stocked(i % 3, organization=organization, low_stock_threshold=5)

    # authentication, role, the caller's permissions (whether it sees costs: 2), count, page
    with django_assert_max_num_queries(6):
        response = admin_client.get("/api/dashboard/low-stock/?page_size=100")
    assert response.json()["count"] == 30
    assert other_admin_client.get("/api/dashboard/low-stock/").json()["count"] == 0


def test_low_stock_list_rejects_a_bad_page(admin_client, catalogue):
    assert admin_client.get("/api/dashboard/low-stock/?page=999").status_code == 404
    assert admin_client.get("/api/dashboard/low-stock/?page_size=abc").status_code == 200


# --- Sales ------------------------------------------------------------------------------------


@pytest.fixture
def sales(organization, other_organization, catalogue):
    cola, lamp, crisps = catalogue["cola"], catalogue["lamp"], catalogue["crisps"]
    fulfilled = SalesOrder.Status.FULFILLED
    # First instant of March: 2 x 2.50 + 1 x 19.99 = 24.99, at cost 2 x 1.20 + 1 x 13.0533
    # = 2.40 + 13.05 = 15.45
    sales_order(
        organization,
        number=1,
        status=fulfilled,
        fulfilled_at=datetime.datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC),
        lines=[(cola, 2, "2.50", "1.2000"), (lamp, 1, "19.99", "13.0533")],
    )
    # Last second of March: 3 x 2.40 = 7.20, at cost 3 x 1.20 = 3.60
    sales_order(
        organization,
        number=2,
        status=fulfilled,
        fulfilled_at=datetime.datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC),
        lines=[(cola, 3, "2.40", "1.2000")],
    )
    # First instant of April: 10 x 0.10 = 1.00, at cost 10 x 0.05 = 0.50
    sales_order(
        organization,
        number=3,
        status=fulfilled,
        fulfilled_at=datetime.datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC),
        lines=[(crisps, 10, "0.10", "0.0500")],
    )
    # Neither pending nor cancelled orders count.
    sales_order(
        organization, number=4, status=SalesOrder.Status.PENDING, lines=[(lamp, 100, "19.99")]
    )
    sales_order(
        organization, number=5, status=SalesOrder.Status.CANCELLED, lines=[(lamp, 50, "19.99")]
    )
    # Another organization's sales never count.
    rival = ProductFactory(organization=other_organization, sku="RIVAL-2")
    sales_order(
        other_organization,
        number=1,
        status=fulfilled,
        fulfilled_at=datetime.datetime(2026, 3, 15, tzinfo=UTC),
        lines=[(rival, 1000, "1.00")],
    )
    return catalogue


def no_returns(revenue: str, margin: str) -> dict:
    """Total-sales figures of a shop without customer returns."""
    return {
        "returned_quantity": 0,
        "returned_amount": "0.00",
        "returned_cost": "0.00",
        "net_revenue": revenue,
        "net_margin": margin,
    }


def costs(cost: str, margin: str) -> dict:
    return {"currency": "USD", "total_cost": cost, "gross_margin": margin}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            {
                "order_count": 3,
                "total_quantity": 16,
                "total_revenue": "33.19",
                **costs("19.55", "13.64"),
                **no_returns("33.19", "13.64"),
            },
        ),
        (
            "?date_from=2026-03-01&date_to=2026-03-31",
            {
                "order_count": 2,
                "total_quantity": 6,
                "total_revenue": "32.19",
                **costs("19.05", "13.14"),
                **no_returns("32.19", "13.14"),
            },
        ),
        (
            "?date_from=2026-03-31",
            {
                "order_count": 2,
                "total_quantity": 13,
                "total_revenue": "8.20",
                **costs("4.10", "4.10"),
                **no_returns("8.20", "4.10"),
            },
        ),
        (
            "?date_to=2026-03-01",
            {
                "order_count": 1,
                "total_quantity": 3,
                "total_revenue": "24.99",
                **costs("15.45", "9.54"),
                **no_returns("24.99", "9.54"),
            },
        ),
        (
            "?date_from=2026-04-01&date_to=2026-04-01",
            {
                "order_count": 1,
                "total_quantity": 10,
                "total_revenue": "1.00",
                **costs("0.50", "0.50"),
                **no_returns("1.00", "0.50"),
            },
        ),
        (
            "?date_to=2026-02-28",
            {
                "order_count": 0,
                "total_quantity": 0,
                "total_revenue": "0.00",
                **costs("0.00", "0.00"),
                **no_returns("0.00", "0.00"),
            },
        ),
        (
            "?date_from=&date_to=",
            {
                "order_count": 3,
                "total_quantity": 16,
                "total_revenue": "33.19",
                **costs("19.55", "13.64"),
                **no_returns("33.19", "13.64"),
            },
        ),
        (
            "?date_from=0001-01-01&date_to=9999-12-31",
            {
                "order_count": 3,
                "total_quantity": 16,
                "total_revenue": "33.19",
                **costs("19.55", "13.64"),
                **no_returns("33.19", "13.64"),
            },
        ),
    ],
)
def test_total_sales_over_fulfilled_orders_within_inclusive_dates(
    admin_client, sales, query, expected
):
    response = admin_client.get(f"/api/dashboard/total-sales/{query}")

    assert response.status_code == 200
    assert response.json() == expected


def test_top_products_by_quantity_sold(admin_client, sales):
    cola, lamp, crisps = sales["cola"], sales["lamp"], sales["crisps"]

    response = admin_client.get("/api/dashboard/top-products/")

    assert response.status_code == 200
    nothing_back = {"returned_quantity": 0}
    assert response.json() == [
        {"product": crisps.pk, "sku": "CRISPS", "name": crisps.name, "quantity_sold": 10,
         "revenue": "1.00", "total_cost": "0.50", "gross_margin": "0.50", **nothing_back,
         "net_quantity": 10, "net_revenue": "1.00"},
        {"product": cola.pk, "sku": "COLA", "name": cola.name, "quantity_sold": 5,
         "revenue": "12.20", "total_cost": "6.00", "gross_margin": "6.20", **nothing_back,
         "net_quantity": 5, "net_revenue": "12.20"},
        {"product": lamp.pk, "sku": "LAMP", "name": lamp.name, "quantity_sold": 1,
         "revenue": "19.99", "total_cost": "13.05", "gross_margin": "6.94", **nothing_back,
         "net_quantity": 1, "net_revenue": "19.99"},
    ]  # fmt: skip


def test_top_products_honours_dates_and_limit(admin_client, sales):
    march = admin_client.get(
        "/api/dashboard/top-products/?date_from=2026-03-01&date_to=2026-03-31"
    ).json()
    assert [(r["sku"], r["quantity_sold"], r["revenue"]) for r in march] == [
        ("COLA", 5, "12.20"),
        ("LAMP", 1, "19.99"),
    ]
    top_one = admin_client.get("/api/dashboard/top-products/?limit=1").json()
    assert [r["sku"] for r in top_one] == ["CRISPS"]
    assert admin_client.get("/api/dashboard/top-products/?date_to=2026-02-01").json() == []


def test_top_products_is_scoped(other_admin_client, sales):
    body = other_admin_client.get("/api/dashboard/top-products/").json()
    assert [(r["sku"], r["quantity_sold"], r["revenue"]) for r in body] == [
        ("RIVAL-2", 1000, "1000.00")
    ]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/dashboard/total-sales/?date_from=2026-13-01", "date_from"),
        ("/api/dashboard/total-sales/?date_from=yesterday", "date_from"),
        ("/api/dashboard/total-sales/?date_to=2026-02-30", "date_to"),
        ("/api/dashboard/total-sales/?date_to=99999-01-01", "date_to"),
        ("/api/dashboard/total-sales/?date_from=2026-01-01T00:00:00Z", "date_from"),
        ("/api/dashboard/total-sales/?date_from=2026-03-02&date_to=2026-03-01", "date_to"),
        ("/api/dashboard/top-products/?date_from=%00", "date_from"),
        ("/api/dashboard/top-products/?limit=0", "limit"),
        ("/api/dashboard/top-products/?limit=101", "limit"),
        ("/api/dashboard/top-products/?limit=-1", "limit"),
        ("/api/dashboard/top-products/?limit=ten", "limit"),
        ("/api/dashboard/top-products/?limit=1.5", "limit"),
        ("/api/dashboard/top-products/?limit=99999999999999999999999999", "limit"),
    ],
)
def test_bad_report_parameters_are_a_400_naming_the_field(admin_client, sales, path, field):
    response = admin_client.get(path)

    assert response.status_code == 400
    assert field in response.json()


def test_sales_reports_query_count_does_not_grow_with_orders(
    admin_client, organization, stocked, django_assert_max_num_queries, cache_off_the_database
):
    products = [stocked(0, organization=organization) for _ in range(5)]
    for number in range(1, 31):
        sales_order(
            organization,
            number=number,
            status=SalesOrder.Status.FULFILLED,
            fulfilled_at=datetime.datetime(2026, 5, 1, tzinfo=UTC),
            lines=[(products[number % 5], number, "1.00"), (products[0], 1, "0.50")],
        )

    # authentication, role, the caller's permissions (whether it sees costs: 2), sales, returns
    with django_assert_max_num_queries(6):
        total = admin_client.get("/api/dashboard/total-sales/")
    with django_assert_max_num_queries(5):
        top = admin_client.get("/api/dashboard/top-products/?limit=100")
    assert total.json()["order_count"] == 30
    assert total.json()["total_quantity"] == sum(range(1, 31)) + 30
    assert len(top.json()) == 5


def test_selectors_take_the_organization_explicitly(organization, other_organization, sales):
    assert selectors.total_sales(organization=other_organization)["order_count"] == 1
    assert selectors.total_sales(
        organization=organization,
        date_from=datetime.date(2026, 3, 1),
        date_to=datetime.date(2026, 3, 1),
    ) == {
        "currency": "USD",
        "order_count": 1,
        "total_quantity": 3,
        "total_revenue": Decimal("24.99"),
        "total_cost": Decimal("15.45"),
        "gross_margin": Decimal("9.54"),
        "returned_quantity": 0,
        "returned_amount": Decimal("0.00"),
        "returned_cost": Decimal("0.00"),
        "net_revenue": Decimal("24.99"),
        "net_margin": Decimal("9.54"),
    }
