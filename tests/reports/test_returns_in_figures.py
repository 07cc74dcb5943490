"""Customer returns in the sales figures (API.md, Reports): a return is negative revenue in the
period it was recorded and, when its goods went back on the shelf, negative cost of goods at
the cost its sale recorded; goods returned without restocking are a loss and undo no cost.
Every figure here is worked out by hand."""

import datetime

import pytest

from orders.services import DocumentLine, OrderItem
from sales import services as sales_services
from sales.models import SalesOrder
from stock import services as stock_services
from tests.factories import ProductFactory
from tests.support.api import client_for

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
TOTAL = "/api/dashboard/total-sales/"
BY_DAY = "/api/dashboard/sales-over-time/"
TOP = "/api/dashboard/top-products/"
MONDAY, TUESDAY = "2026-11-16", "2026-11-17"


@pytest.fixture
def shop(clock, organization, admin_user):
    """Monday: 10 milk sold at 2.00 (cost 0.9000 a unit: 9.00) and 3 bread at 3.00 (cost
    1.2500: 3.75). Tuesday: 3 milk back on the shelf (6.00, their cost 2.70) and 2 milk back
    spoiled (4.00, no cost undone); 1 bread back on the shelf (3.00, cost 1.25)."""

    def stocked(sku, price, cost):
        product = ProductFactory(organization=organization, sku=sku, price=price, cost_price=cost)
        stock_services.record_initial_stock(product=product, quantity=100, user=admin_user)
        return product

    milk, bread = stocked("MILK", "2.00", "0.90"), stocked("BREAD", "3.00", "1.25")
    clock.move_to(datetime.datetime(2026, 11, 16, 10, tzinfo=UTC))
    order = sales_services.create_sales_order(
        organization=organization, user=admin_user, status=SalesOrder.Status.FULFILLED,
        items=[OrderItem(milk, 10), OrderItem(bread, 3)],
    )  # fmt: skip
    milk_line, bread_line = order.items.order_by("id")
    clock.move_to(datetime.datetime(2026, 11, 17, 15, tzinfo=UTC))
    for lines, restock in (
        ([DocumentLine(milk_line.pk, 3), DocumentLine(bread_line.pk, 1)], True),
        ([DocumentLine(milk_line.pk, 2)], False),
    ):
        sales_services.record_customer_return(
            order=order, user=admin_user, lines=lines, restock=restock
        )
    return {"milk": milk, "bread": bread, "client": client_for(admin_user)}


def get(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_total_sales_net_out_the_returns(shop):
    figures = get(shop["client"], TOTAL, date_from=MONDAY, date_to=TUESDAY)

    assert figures == {
        "currency": "USD",
        "order_count": 1,
        "total_quantity": 13,
        "total_revenue": "29.00",  # 20.00 + 9.00
        "total_cost": "12.75",  # 9.00 + 3.75
        "gross_margin": "16.25",
        "returned_quantity": 6,
        "returned_amount": "13.00",  # 6.00 + 4.00 + 3.00
        "returned_cost": "3.95",  # 2.70 + 1.25: the spoiled milk undoes no cost
        "net_revenue": "16.00",  # 29.00 - 13.00
        "net_margin": "7.20",  # 16.00 - (12.75 - 3.95)
    }


def test_returns_count_in_the_period_they_were_recorded(shop):
    monday = get(shop["client"], TOTAL, date_from=MONDAY, date_to=MONDAY)
    tuesday = get(shop["client"], TOTAL, date_from=TUESDAY, date_to=TUESDAY)

    assert (monday["returned_amount"], monday["net_revenue"], monday["net_margin"]) == (
        "0.00", "29.00", "16.25",
    )  # fmt: skip
    # A day with returns and no sales: below zero.
    assert (tuesday["total_revenue"], tuesday["returned_amount"], tuesday["returned_cost"],
            tuesday["net_revenue"], tuesday["net_margin"]) == (
        "0.00", "13.00", "3.95", "-13.00", "-9.05",
    )  # fmt: skip
    rows = get(shop["client"], BY_DAY, date_from=MONDAY, date_to=TUESDAY)
    assert [
        (r["period"], r["total_revenue"], r["returned_amount"], r["returned_cost"],
         r["net_revenue"], r["net_margin"]) for r in rows
    ] == [
        (MONDAY, "29.00", "0.00", "0.00", "29.00", "16.25"),
        (TUESDAY, "0.00", "13.00", "3.95", "-13.00", "-9.05"),
    ]  # fmt: skip


def test_top_products_rank_by_units_sold_less_returned(shop):
    rows = get(shop["client"], TOP, date_from=MONDAY, date_to=TUESDAY)

    # Milk sold 10, 5 came back (net 5); bread sold 3, 1 came back (net 2).
    assert [(r["sku"], r["quantity_sold"], r["returned_quantity"], r["net_quantity"],
             r["revenue"], r["net_revenue"]) for r in rows] == [
        ("MILK", 10, 5, 5, "20.00", "10.00"),
        ("BREAD", 3, 1, 2, "9.00", "6.00"),
    ]  # fmt: skip
    # Returned on Tuesday what Monday sold: on Tuesday alone, only what came back.
    tuesday = get(shop["client"], TOP, date_from=TUESDAY, date_to=TUESDAY)
    assert [(r["sku"], r["quantity_sold"], r["net_quantity"], r["net_revenue"])
            for r in tuesday] == [("BREAD", 0, -1, "-3.00"), ("MILK", 0, -5, "-10.00")]  # fmt: skip


def test_a_product_that_sells_more_but_comes_back_more_ranks_lower(shop, organization,
                                                                   admin_user, clock):  # fmt: skip
    """Bread: 3 more sold and 4 of them back on Tuesday (net -1 that day)."""
    clock.move_to(datetime.datetime(2026, 11, 17, 16, tzinfo=UTC))
    order = sales_services.create_sales_order(
        organization=organization, user=admin_user, status=SalesOrder.Status.FULFILLED,
        items=[OrderItem(shop["bread"], 12)],
    )  # fmt: skip
    sales_services.record_customer_return(
        order=order, user=admin_user, lines=[DocumentLine(order.items.get().pk, 10)]
    )

    rows = get(client_for(admin_user), TOP, date_from=MONDAY, date_to=TUESDAY)

    assert [(r["sku"], r["quantity_sold"], r["net_quantity"]) for r in rows] == [
        ("MILK", 10, 5), ("BREAD", 15, 4),
    ]  # fmt: skip


def test_a_sales_rep_sees_no_cost_figure_of_the_returns(shop, sales_user):
    client = client_for(sales_user)
    figures = get(client, TOTAL, date_from=MONDAY, date_to=TUESDAY)
    assert (figures["returned_cost"], figures["net_margin"], figures["gross_margin"]) == (
        None, None, None,
    )  # fmt: skip
    assert figures["net_revenue"] == "16.00"
    for row in get(client, BY_DAY, date_from=MONDAY, date_to=TUESDAY):
        assert (row["returned_cost"], row["net_margin"]) == (None, None)


def test_a_return_line_records_the_cost_its_sale_recorded(shop):
    from sales.models import CustomerReturnLine

    lines = CustomerReturnLine.objects.order_by("id").values_list(
        "item__product__sku", "quantity", "unit_cost", "line_cost", "customer_return__restock"
    )
    assert [(sku, n, f"{cost}", f"{line}", restock) for sku, n, cost, line, restock in lines] == [
        ("MILK", 3, "0.9000", "2.70", True),
        ("BREAD", 1, "1.2500", "1.25", True),
        ("MILK", 2, "0.9000", "1.80", False),
    ]


def test_the_reports_queries_stay_few_with_returns(shop, django_assert_max_num_queries, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = shop["client"]
    get(client, TOTAL)  # the signed-in user cached
    params = {"date_from": MONDAY, "date_to": TUESDAY}
    with django_assert_max_num_queries(2):  # sales, returns
        get(client, TOTAL, **params)
    with django_assert_max_num_queries(1):  # sales and returns per product, named
        get(client, TOP, **params)
    with django_assert_max_num_queries(1):  # the periods with their sales and returns
        get(client, BY_DAY, **params)


def test_the_schema_describes_the_new_figures_exactly(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    money = {"type": "string", "format": "decimal", "readOnly": True}
    signed = {"gross_margin", "net_revenue", "net_margin"}  # may fall below zero

    def described(component, field):
        prop = components[component]["properties"][field]
        assert field in components[component]["required"]
        return prop

    for field in ("returned_cost", "net_margin"):  # cost figures: null for a sales rep
        for component in ("TotalSales", "SalesPeriod"):
            prop = described(component, field)
            assert {**money, "nullable": True}.items() <= prop.items()
    for component, field in (("TotalSales", "net_revenue"), ("SalesPeriod", "net_revenue"),
                             ("SalesPeriod", "returned_amount"), ("TopProduct", "net_revenue"),
                             ("SupplierReturn", "total_cost")):  # fmt: skip
        prop = described(component, field)
        assert money.items() <= prop.items()
        assert field in signed or not prop.get("pattern", "^").startswith("^-")
    for component, field in (("TopProduct", "returned_quantity"), ("TopProduct", "net_quantity")):
        assert described(component, field)["type"] == "integer"
    for component in ("TotalSales", "Dashboard"):
        currency = described(component, "currency")
        assert currency["allOf"] == [{"$ref": "#/components/schemas/CurrencyEnum"}]
    line = components["SupplierReturnLine"]["properties"]
    assert line["unit_cost"]["readOnly"] and line["line_total"]["readOnly"]
    assert "unit_cost" not in components["SupplierReturnLineRequest"]["properties"]
