"""API.md "Stock levels": /api/stock/levels/, its CSV, and /api/products/{id}/stock/."""

import csv
import io

import pytest

from stock.models import StockLevel
from tests.factories import ProductFactory
from tests.support.stock import days, move, receive_lot

URL = "/api/stock/levels/"
FIELDS = [
    "product",
    "sku",
    "product_name",
    "location",
    "location_name",
    "lot",
    "lot_code",
    "expiration_date",
    "quantity",
    "allocated",
    "available",
]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def spread(admin_client, stocked, organization, yoghurt, back_room):
    """Tea at Main (4) and in the back room (3); yoghurt's lots at Main; an emptied level."""
    tea = stocked(
        quantity=4, organization=organization, sku="TEA-1", name="Tea", low_stock_threshold=10
    )
    move(admin_client, product=tea.pk, movement_type="IN", quantity=3, location=back_room.pk)
    receive_lot(yoghurt, "OLD", 2, expires=days(-1))
    receive_lot(yoghurt, "NEW", 5, expires=days(9))
    gone = stocked(quantity=1, organization=organization, sku="GONE", name="Gone")
    move(admin_client, product=gone.pk, movement_type="OUT", quantity=1)
    return tea


def rows(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return [
        (row["sku"], row["location_name"], row["lot_code"], row["quantity"])
        for row in response.json()["results"]
    ]


def test_one_row_per_product_location_and_lot_that_holds_stock(admin_client, spread, yoghurt):
    response = admin_client.get(URL)
    assert response.status_code == 200
    results = response.json()["results"]
    assert list(results[0]) == FIELDS
    # In the order of the product, location and lot ids (the indexes' order: fast at scale).
    assert rows(admin_client) == [
        ("YOG-1", "Main", "OLD", 2),
        ("YOG-1", "Main", "NEW", 5),
        ("TEA-1", "Main", None, 4),
        ("TEA-1", "Back room", None, 3),
    ]
    new = next(row for row in results if row["lot_code"] == "NEW")
    assert (new["expiration_date"], new["allocated"], new["available"]) == (str(days(9)), 0, 5)
    assert StockLevel.objects.filter(quantity=0).exists()  # kept, but not listed


def test_filters(admin_client, spread, yoghurt, back_room):
    assert rows(admin_client, location=back_room.pk) == [("TEA-1", "Back room", None, 3)]
    assert [r[2] for r in rows(admin_client, product=yoghurt.pk)] == ["OLD", "NEW"]
    lot = yoghurt.lots.get(code="NEW")
    assert rows(admin_client, lot=lot.pk) == [("YOG-1", "Main", "NEW", 5)]
    assert {r[0] for r in rows(admin_client, low_stock="true")} == {"TEA-1"}  # 7 <= 10
    assert {r[0] for r in rows(admin_client, low_stock="false")} == {"YOG-1"}
    assert rows(admin_client, expired="true") == [("YOG-1", "Main", "OLD", 2)]
    assert len(rows(admin_client, expired="false")) == 3
    assert admin_client.get(URL, {"location": "main"}).status_code == 400
    assert admin_client.get(URL, {"expired": "perhaps"}).status_code == 400


def test_a_product_without_lots_whose_date_has_come_is_expired_at_every_location(
    admin_client, spread
):
    spread.expiration_date = days(0)
    spread.save(update_fields=["expiration_date"])
    assert {(r[0], r[1]) for r in rows(admin_client, expired="true")} == {
        ("TEA-1", "Back room"),
        ("TEA-1", "Main"),
        ("YOG-1", "Main"),
    }


def test_scoped_to_the_callers_organization_and_read_by_every_role(
    sales_client, other_admin_client, api_client, spread
):
    assert len(rows(sales_client)) == 4
    assert rows(other_admin_client) == []
    assert api_client.get(URL).status_code == 401
    assert sales_client.post(URL, {}).status_code == 405


def test_list_query_count_is_constant(
    admin_client, organization, back_room, django_assert_max_num_queries
):
    for n in range(15):
        product = ProductFactory(organization=organization, track_lots=True)
        receive_lot(product, f"A{n}", 2, expires=days(n))
        receive_lot(product, f"B{n}", 2, location=back_room)
    with django_assert_max_num_queries(6):
        response = admin_client.get(URL)
    assert response.json()["count"] == 30


def test_export_streams_the_listed_rows_as_csv(admin_client, spread, back_room):
    response = admin_client.get(f"{URL}export/", {"product": spread.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="stock-levels-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == FIELDS
    assert [(row[4], row[8], row[10]) for row in table[1:]] == [
        ("Main", "4", "4"),
        ("Back room", "3", "3"),
    ]
    assert admin_client.get(f"{URL}export/", {"lot": "x"}).status_code == 400


def test_a_products_stock_is_its_rows_unpaginated(
    admin_client, spread, yoghurt, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = admin_client.get(f"/api/products/{yoghurt.pk}/stock/")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [(row["lot_code"], row["quantity"]) for row in body] == [("OLD", 2), ("NEW", 5)]
    assert list(body[0]) == FIELDS


def test_another_organizations_product_stock_is_404(other_admin_client, spread):
    assert other_admin_client.get(f"/api/products/{spread.pk}/stock/").status_code == 404
