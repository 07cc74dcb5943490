"""Customer returns (API.md, Sales orders and Reports): goods of a fulfilled order come back,
restocked to the lots the sale took or not at all, never more than was sold; the reports count
them."""

import datetime
from decimal import Decimal

import pytest

from core.dates import local_today
from inventory.models import Product
from sales.models import CustomerReturn
from stock import services as stock
from stock.models import Lot, StockMovement
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


def sell(client, *lines):
    body = {
        "status": "fulfilled",
        "items": [{"product": p.pk, "quantity": q, "unit_price": price} for p, q, price in lines],
    }
    response = client.post("/api/sales-orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def bring_back(client, order, *lines, **fields):
    return client.post(
        f"/api/sales-orders/{order['id']}/returns/", {"lines": list(lines), **fields},
        format="json",
    )  # fmt: skip


def quantity(product):
    return Product.objects.get(pk=product.pk).quantity


def test_a_restocked_return_puts_the_goods_back(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK", price="2.00")
    order = sell(admin_client, (milk, 4, "2.00"))
    line = order["items"][0]

    response = bring_back(admin_client, order, {"item": line["id"], "quantity": 3}, note="sour")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "CR-00001"
    assert (body["sales_order"], body["restock"], body["note"]) == (order["id"], True, "sour")
    assert body["lines"] == [
        {"item": line["id"], "product": milk.pk, "quantity": 3, "unit_price": "2.00",
         "line_total": "6.00"}
    ]  # fmt: skip
    assert body["total_amount"] == "6.00"
    (movement,) = body["movements"]
    assert (movement["movement_type"], movement["delta"], movement["source"]) == (
        "IN", 3, "customer_return"
    )  # fmt: skip
    assert movement["reference"] == "CR-00001"
    assert quantity(milk) == 9
    detail = admin_client.get(f"/api/sales-orders/{order['id']}/").json()
    assert detail["items"][0]["returned_quantity"] == 3
    assert detail["status"] == "fulfilled"
    second = bring_back(admin_client, order, {"item": line["id"], "quantity": 1})
    assert second.status_code == 201 and second.json()["reference"] == "CR-00002"
    listed = admin_client.get(f"/api/sales-orders/{order['id']}/returns/").json()
    assert [r["reference"] for r in listed] == ["CR-00002", "CR-00001"]


def test_a_return_without_restock_moves_nothing(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK", price="2.00")
    order = sell(admin_client, (milk, 4, "2.00"))

    response = bring_back(
        admin_client, order, {"item": order["items"][0]["id"], "quantity": 2}, restock=False
    )

    assert response.status_code == 201
    assert response.json()["movements"] == [] and response.json()["restock"] is False
    assert quantity(milk) == 6
    assert not StockMovement.objects.filter(source="customer_return").exists()


def test_no_line_returns_more_than_it_sold(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK", price="2.00")
    bread = stocked(organization=organization, quantity=10, sku="BREAD", price="1.00")
    order = sell(admin_client, (milk, 4, "2.00"), (bread, 2, "1.00"))
    milk_line, bread_line = order["items"]
    assert (
        bring_back(admin_client, order, {"item": milk_line["id"], "quantity": 3}).status_code == 201
    )

    response = bring_back(
        admin_client, order,
        {"item": bread_line["id"], "quantity": 2}, {"item": milk_line["id"], "quantity": 2},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {
        "lines": ["Line 2 (MILK): 2 to return, 1 sold and not returned yet."]
    }
    assert quantity(bread) == 8 and quantity(milk) == 9
    assert CustomerReturn.objects.count() == 1


def test_only_a_fulfilled_order_takes_returns(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    for status in ("pending", "confirmed", "cancelled"):
        created = admin_client.post(
            "/api/sales-orders/",
            {"status": "pending", "items": [{"product": milk.pk, "quantity": 1}]},
            format="json",
        ).json()
        if status != "pending":
            admin_client.patch(
                f"/api/sales-orders/{created['id']}/", {"status": status}, format="json"
            )
        response = bring_back(
            admin_client, created, {"item": created["items"][0]["id"], "quantity": 1}
        )
        assert response.status_code == 409, status
    assert not CustomerReturn.objects.exists()


def test_bad_returns_are_400(admin_client, stocked, organization, other_organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    order = sell(admin_client, (milk, 2, "1.00"))
    other = sell(admin_client, (milk, 2, "1.00"))
    line = order["items"][0]["id"]
    cases = [
        {"lines": []},
        {"lines": [{"item": line, "quantity": 0}]},
        {"lines": [{"item": other["items"][0]["id"], "quantity": 1}]},
        {"lines": [{"item": line, "quantity": 1}], "restock": "maybe"},
        {"lines": [{"item": line, "quantity": 1}],
         "location": stock.default_location(organization_id=other_organization.pk).pk},
    ]  # fmt: skip
    for body in cases:
        response = admin_client.post(
            f"/api/sales-orders/{order['id']}/returns/", body, format="json"
        )
        assert response.status_code == 400, (body, response.json())
    assert quantity(milk) == 6 and not CustomerReturn.objects.exists()


def test_lot_tracked_goods_go_back_to_the_lots_the_sale_took(admin_client, organization):
    yoghurt = ProductFactory(organization=organization, sku="YOG", track_lots=True, price="1.00")
    today = local_today(None)
    for code, days, units in (("SOON", 3, 2), ("LATE", 20, 5)):
        expiry = today + datetime.timedelta(days)
        stock.record_movement(product=yoghurt, movement_type="IN", quantity=units, user=None,
                              lot_code=code, expiration_date=expiry)  # fmt: skip
    order = sell(admin_client, (yoghurt, 5, "1.00"))  # FEFO: 2 SOON, 3 LATE
    line = order["items"][0]["id"]

    first = bring_back(admin_client, order, {"item": line, "quantity": 4})

    assert first.status_code == 201
    assert {lot["lot_code"]: lot["delta"] for lot in first.json()["movements"][0]["lots"]} == {
        "LATE": 3,
        "SOON": 1,
    }
    second = bring_back(admin_client, order, {"item": line, "quantity": 1})
    assert {lot["lot_code"]: lot["delta"] for lot in second.json()["movements"][0]["lots"]} == {
        "SOON": 1
    }
    assert dict(Lot.objects.values_list("code", "quantity")) == {"SOON": 2, "LATE": 5}


def test_returns_of_the_organization(admin_client, other_admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    first = sell(admin_client, (milk, 2, "1.00"))
    second = sell(admin_client, (milk, 2, "1.00"))
    for order in (first, second):
        item = order["items"][0]["id"]
        assert bring_back(admin_client, order, {"item": item, "quantity": 1}).status_code == 201

    listed = admin_client.get("/api/returns/").json()
    assert listed["count"] == 2
    assert [r["reference"] for r in listed["results"]] == ["CR-00002", "CR-00001"]
    one = admin_client.get("/api/returns/", {"sales_order": first["id"]}).json()
    assert [r["sales_order"] for r in one["results"]] == [first["id"]]
    today = local_today(None)
    tomorrow = today + datetime.timedelta(days=1)
    assert admin_client.get("/api/returns/", {"date_from": str(today)}).json()["count"] == 2
    assert admin_client.get("/api/returns/", {"date_from": str(tomorrow)}).json()["count"] == 0
    assert admin_client.get("/api/returns/", {"date_to": "nope"}).status_code == 400
    assert other_admin_client.get("/api/returns/").json()["count"] == 0
    (newest, _) = listed["results"]
    detail = admin_client.get(f"/api/returns/{newest['id']}/")
    assert detail.status_code == 200 and detail.json() == newest
    assert other_admin_client.get(f"/api/returns/{newest['id']}/").status_code == 404
    assert other_admin_client.post(
        f"/api/sales-orders/{first['id']}/returns/",
        {"lines": [{"item": first["items"][0]["id"], "quantity": 1}]}, format="json",
    ).status_code == 404  # fmt: skip


def test_a_sales_rep_records_returns_of_anyones_order(
    sales_client, admin_client, stocked, organization
):
    milk = stocked(organization=organization, quantity=10, sku="MILK", price="1.00")
    order = sell(admin_client, (milk, 2, "1.00"))
    response = bring_back(sales_client, order, {"item": order["items"][0]["id"], "quantity": 1})
    assert response.status_code == 201
    assert sales_client.get("/api/returns/").json()["count"] == 1


def test_listing_returns_takes_constant_queries(
    admin_client, stocked, organization, django_assert_max_num_queries
):
    milk = stocked(organization=organization, quantity=100, sku="MILK")
    for _ in range(5):
        order = sell(admin_client, (milk, 2, "1.00"))
        assert (
            bring_back(
                admin_client, order, {"item": order["items"][0]["id"], "quantity": 1}
            ).status_code
            == 201
        )
    with django_assert_max_num_queries(10):
        assert admin_client.get("/api/returns/").json()["count"] == 5


def test_total_sales_are_net_of_returns(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=100, sku="MILK", price="2.50")
    bread = stocked(organization=organization, quantity=100, sku="BREAD", price="1.20")
    first = sell(admin_client, (milk, 4, "2.50"), (bread, 10, "1.20"))  # 10.00 + 12.00
    sell(admin_client, (milk, 2, "3.00"))  # 6.00
    milk_line, bread_line = first["items"]
    assert bring_back(admin_client, first, {"item": milk_line["id"], "quantity": 1},
                      {"item": bread_line["id"], "quantity": 3}).status_code == 201  # fmt: skip
    assert bring_back(admin_client, first, {"item": bread_line["id"], "quantity": 2},
                      restock=False).status_code == 201  # fmt: skip

    body = admin_client.get("/api/dashboard/total-sales/").json()

    # Hand-computed: revenue 10.00 + 12.00 + 6.00 = 28.00; returned 1 x 2.50 + 5 x 1.20 = 8.50.
    assert body["order_count"] == 2
    assert body["total_quantity"] == 16
    assert Decimal(body["total_revenue"]) == Decimal("28.00")
    assert body["returned_quantity"] == 6
    assert body["returned_amount"] == "8.50"
    assert body["net_revenue"] == "19.50"
    tomorrow = str(local_today(None) + datetime.timedelta(days=1))
    later = admin_client.get("/api/dashboard/total-sales/", {"date_from": tomorrow}).json()
    assert (later["returned_quantity"], later["returned_amount"], later["net_revenue"]) == (
        0, "0.00", "0.00"
    )  # fmt: skip


@pytest.mark.parametrize("shape", ["one item twice", "two items of one product"])
def test_a_return_in_several_lines_refills_each_lot_once(admin_client, organization, shape):
    yoghurt = ProductFactory(organization=organization, sku="YOG", track_lots=True, price="1.00")
    today = local_today(None)
    for code, days, units in (("SOON", 3, 2), ("LATE", 20, 5)):
        expiry = today + datetime.timedelta(days)
        stock.record_movement(product=yoghurt, movement_type="IN", quantity=units, user=None,
                              lot_code=code, expiration_date=expiry)  # fmt: skip
    if shape == "one item twice":
        order = sell(admin_client, (yoghurt, 5, "1.00"))  # FEFO: 2 SOON, 3 LATE
        first = second = order["items"][0]["id"]
    else:
        order = sell(admin_client, (yoghurt, 3, "1.00"), (yoghurt, 2, "1.00"))
        first, second = (item["id"] for item in order["items"])

    response = bring_back(
        admin_client, order, {"item": first, "quantity": 3}, {"item": second, "quantity": 2}
    )

    assert response.status_code == 201, response.json()
    assert dict(Lot.objects.values_list("code", "quantity")) == {"SOON": 2, "LATE": 5}


def test_returns_filter_on_a_malformed_order_id_is_400(admin_client):
    for value in ("99999999999999999999", "1.5", "x"):
        assert admin_client.get("/api/returns/", {"sales_order": value}).status_code == 400
