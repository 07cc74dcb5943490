import csv
import datetime
import io

import pytest
from django.http import StreamingHttpResponse

from core.dates import local_today
from core.exports import csv_cell
from tests.factories import CategoryFactory, ProductFactory

URL = "/api/products/export/"
HEADER = [
    "id",
    "sku",
    "barcode",
    "name",
    "description",
    "category",
    "category_name",
    "supplier",
    "supplier_name",
    "price",
    "cost_price",
    "average_cost",
    "quantity",
    "allocated",
    "available",
    "low_stock_threshold",
    "on_order",
    "track_lots",
    "expiration_date",
    "expired_quantity",
    "is_low_stock",
    "is_expired",
    "stock_value",
    "parent",
    "attributes",
    "last_counted_at",
    "created_at",
    "updated_at",
]


def read(response):
    """The file as a spreadsheet opens it: UTF-8 with a byte-order mark, then CSV."""
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture
def products(stocked, organization):
    category = CategoryFactory(organization=organization, name="Dairy")
    return [
        stocked(
            quantity=3, organization=organization, sku="MILK", name="Milk", price="1.25",
            category=category, low_stock_threshold=5,
            expiration_date=local_today(None) - datetime.timedelta(days=1),
        ),
        stocked(quantity=10, organization=organization, sku="EGGS", name="Eggs", price="0.30"),
    ]  # fmt: skip


def test_export_streams_csv_with_the_lists_columns(admin_client, products):
    response = admin_client.get(URL)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="products-{local_today(None).isoformat()}.csv"'
    )
    rows = read(response)
    assert list(rows[0]) == HEADER
    assert [r["sku"] for r in rows] == ["EGGS", "MILK"]  # the list's default ordering: name
    milk = rows[1]
    assert milk["category_name"] == "Dairy"
    assert (milk["price"], milk["quantity"], milk["stock_value"]) == ("1.25", "3", "3.75")
    assert (milk["is_low_stock"], milk["is_expired"]) == ("true", "true")
    assert milk["cost_price"] == "" and milk["parent"] == ""
    assert milk["average_cost"] == "0.0000"
    # every column of the list is in the export, and the supplier's name beside its id
    listed = admin_client.get("/api/products/").json()["results"][0]
    assert set(listed) == set(HEADER) - {"supplier_name"}


def test_decimals_come_out_as_in_the_json_and_names_beside_ids(admin_client, organization, stocked):
    from tests.factories import SupplierFactory

    supplier = SupplierFactory(organization=organization, name="Fromagerie Dupré")
    stocked(
        quantity=12, organization=organization, sku="CAFE", name="Café crème", price="2.99",
        cost_price="1.10", supplier=supplier,
        category=CategoryFactory(organization=organization, name="Boissons chaudes"),
    )  # fmt: skip

    (row,) = read(admin_client.get(URL))
    listed = admin_client.get("/api/products/").json()["results"][0]

    assert (row["stock_value"], row["price"], row["cost_price"]) == ("35.88", "2.99", "1.10")
    assert row["average_cost"] == listed["average_cost"] == "1.1000"
    assert row["stock_value"] == listed["stock_value"]
    assert (row["name"], row["category_name"], row["supplier_name"]) == (
        "Café crème",
        "Boissons chaudes",
        "Fromagerie Dupré",
    )
    assert row["supplier"] == str(supplier.pk)


def test_cost_figures_are_empty_for_the_sales_role(sales_client, manager_client, products):
    from inventory.models import Product

    Product.objects.filter(sku="MILK").update(cost_price="0.80", average_cost="0.7833")

    by_sales = {r["sku"]: r for r in read(sales_client.get(URL))}
    by_manager = {r["sku"]: r for r in read(manager_client.get(URL))}

    assert by_sales["MILK"]["cost_price"] == by_sales["MILK"]["average_cost"] == ""
    assert by_manager["MILK"]["cost_price"] == "0.80"
    assert by_manager["MILK"]["average_cost"] == "0.7833"


def test_export_accepts_text_csv(admin_client, products):
    assert len(read(admin_client.get(URL, HTTP_ACCEPT="text/csv"))) == 2


def test_export_honours_filters_search_and_ordering(admin_client, products):
    assert [r["sku"] for r in read(admin_client.get(URL, {"low_stock": "true"}))] == ["MILK"]
    assert [r["sku"] for r in read(admin_client.get(URL, {"search": "egg"}))] == ["EGGS"]
    ordered = read(admin_client.get(URL, {"ordering": "-quantity"}))
    assert [r["sku"] for r in ordered] == ["EGGS", "MILK"]


def test_export_is_not_paginated(admin_client, organization):
    ProductFactory.create_batch(25, organization=organization)
    assert len(read(admin_client.get(URL, {"page_size": 5}))) == 25


def test_malformed_filter_is_400(admin_client, products):
    response = admin_client.get(URL, {"expired": "sometimes"})
    assert response.status_code == 400
    assert "expired" in response.json()


def test_export_leaves_out_archived_and_other_organizations(
    admin_client, other_admin_client, products
):
    products[0].is_archived = True
    products[0].save(update_fields=["is_archived"])
    assert [r["sku"] for r in read(admin_client.get(URL))] == ["EGGS"]
    assert read(other_admin_client.get(URL)) == []


def test_formula_injection_is_neutralised(admin_client, organization):
    ProductFactory(organization=organization, sku="=HYPERLINK(1)", name="+cmd", description="@x")
    ProductFactory(organization=organization, sku="-2+3", name='plain, with "quotes"')
    rows = read(admin_client.get(URL, {"ordering": "sku"}))
    assert (rows[0]["sku"], rows[0]["name"]) == ("'-2+3", 'plain, with "quotes"')
    assert (rows[1]["sku"], rows[1]["name"], rows[1]["description"]) == (
        "'=HYPERLINK(1)",
        "'+cmd",
        "'@x",
    )


@pytest.mark.parametrize(
    "value, cell",
    [("=1+1", "'=1+1"), ("-x", "'-x"), ("@a", "'@a"), ("+1", "'+1"), ("ok", "ok"),
     ("\uff1d1+1", "'\uff1d1+1"), ("\uff0b1", "'\uff0b1"), ("\uff0dx", "'\uff0dx"),
     ("\uff20a", "'\uff20a"), ("1\uff1d1", "1\uff1d1"),
     (None, ""), (True, "true"), ({"b": "2", "a": "1"}, '{"a": "1", "b": "2"}')],
)  # fmt: skip
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_roles(sales_client, api_client, products):
    assert len(read(sales_client.get(URL))) == 2
    assert api_client.get(URL).status_code == 401


def test_export_is_read_lazily(admin_client, organization):
    """No product row is read before the body is consumed: the response streams."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ProductFactory.create_batch(5, organization=organization)
    with CaptureQueriesContext(connection) as before:
        response = admin_client.get(URL)
    assert not [q for q in before.captured_queries if '"inventory_product"' in q["sql"]]
    with CaptureQueriesContext(connection) as during:
        rows = read(response)
    assert len(rows) == 5
    assert [q for q in during.captured_queries if '"inventory_product"' in q["sql"]]
