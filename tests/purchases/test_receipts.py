"""Purchase receipts (API.md, Purchase orders): what arrives is received line by line, with its
lots; the order is partially received until every line is complete, can be closed, and no line
is ever received more than was ordered."""

import datetime

import pytest

from core.dates import local_today
from inventory.models import Product
from purchases.models import PurchaseOrder, Receipt
from stock import services as stock
from stock.models import Lot, StockLevel, StockMovement
from tests.factories import ProductFactory, SupplierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def supplier(organization):
    return SupplierFactory(organization=organization)


@pytest.fixture
def order_of(admin_client, supplier):
    def make(*lines, status="submitted"):
        body = {
            "supplier": supplier.pk,
            "status": status,
            "items": [{"product": p.pk, "quantity": q, "unit_cost": "1.00"} for p, q in lines],
        }
        response = admin_client.post("/api/purchase-orders/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


def receive(client, order, *lines, **fields):
    return client.post(
        f"/api/purchase-orders/{order['id']}/receipts/", {"lines": list(lines), **fields},
        format="json",
    )  # fmt: skip


def quantity(product):
    return Product.objects.get(pk=product.pk).quantity


def test_a_receipt_receives_part_of_an_order(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    bread = ProductFactory(organization=organization, sku="BREAD")
    order = order_of((milk, 10), (bread, 4))
    milk_line, bread_line = order["items"]

    response = receive(admin_client, order, {"item": milk_line["id"], "quantity": 6}, note="van 1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["purchase_order"] == order["id"]
    assert body["note"] == "van 1"
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("MILK", 6)]
    (movement,) = body["movements"]
    assert (movement["movement_type"], movement["delta"], movement["source"]) == (
        "IN", 6, "purchase_order"
    )  # fmt: skip
    assert movement["reference"] == order["reference"]
    assert quantity(milk) == 6 and quantity(bread) == 0
    detail = admin_client.get(f"/api/purchase-orders/{order['id']}/").json()
    assert detail["status"] == "partially_received"
    assert detail["received_at"] is None
    assert [item["received_quantity"] for item in detail["items"]] == [6, 0]

    response = receive(
        admin_client, order,
        {"item": milk_line["id"], "quantity": 4}, {"item": bread_line["id"], "quantity": 4},
    )  # fmt: skip

    assert response.status_code == 201
    detail = admin_client.get(f"/api/purchase-orders/{order['id']}/").json()
    assert detail["status"] == "received" and detail["received_at"] is not None
    assert [item["received_quantity"] for item in detail["items"]] == [10, 4]
    assert quantity(milk) == 10 and quantity(bread) == 4
    listed = admin_client.get(f"/api/purchase-orders/{order['id']}/receipts/").json()
    assert [len(receipt["lines"]) for receipt in listed] == [1, 2]
    assert receive(admin_client, order, {"item": milk_line["id"], "quantity": 1}).status_code == 409


def test_no_line_is_received_more_than_was_ordered(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    bread = ProductFactory(organization=organization, sku="BREAD")
    order = order_of((milk, 5), (bread, 2))
    milk_line, bread_line = order["items"]
    assert receive(admin_client, order, {"item": milk_line["id"], "quantity": 3}).status_code == 201

    response = receive(
        admin_client, order,
        {"item": bread_line["id"], "quantity": 2}, {"item": milk_line["id"], "quantity": 3},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {"lines": ["Line 2 (MILK): 3 to receive, 2 still to come."]}
    assert quantity(milk) == 3 and quantity(bread) == 0  # nothing of the receipt stored
    assert Receipt.objects.count() == 1
    # Two lines of one item in one receipt count together.
    response = receive(
        admin_client, order,
        {"item": milk_line["id"], "quantity": 2}, {"item": milk_line["id"], "quantity": 1},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Line 2 (MILK): 3 to receive, 2 still to come." in response.json()["lines"]


def test_bad_receipts_are_400_and_change_nothing(
    admin_client, organization, other_organization, order_of
):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = order_of((milk, 5))
    other = order_of((milk, 5))
    line = order["items"][0]
    cases = [
        ({"lines": []}, "lines"),
        ({"lines": [{"item": line["id"], "quantity": 0}]}, "lines"),
        ({"lines": [{"item": line["id"], "quantity": "x"}]}, "lines"),
        ({"lines": [{"item": other["items"][0]["id"], "quantity": 1}]}, "lines"),
        ({"lines": [{"item": line["id"], "quantity": 1, "lot_code": "L1"}]}, "lines"),
        ({"lines": [{"item": line["id"], "quantity": 1}], "location": 999999}, "location"),
        (
            {"lines": [{"item": line["id"], "quantity": 1}],
             "location": stock.default_location(organization_id=other_organization.pk).pk},
            "location",
        ),
    ]  # fmt: skip
    for body, field in cases:
        response = admin_client.post(
            f"/api/purchase-orders/{order['id']}/receipts/", body, format="json"
        )
        assert response.status_code == 400, (body, response.json())
        assert field in response.json(), (body, response.json())
    assert quantity(milk) == 0 and not Receipt.objects.exists()
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "submitted"


def test_a_lot_tracked_line_is_received_with_its_lot(admin_client, organization, order_of):
    yoghurt = ProductFactory(organization=organization, sku="YOG", track_lots=True)
    order = order_of((yoghurt, 10))
    line = order["items"][0]
    expiry = local_today(None) + datetime.timedelta(days=10)

    missing = receive(admin_client, order, {"item": line["id"], "quantity": 4})
    assert missing.status_code == 400
    assert missing.json() == {"lines": ["Line 1 (YOG): lot-tracked, name its lot (lot_code)."]}
    by_status = admin_client.patch(
        f"/api/purchase-orders/{order['id']}/",
        {"status": "received"},
        format="json",
    )
    assert by_status.status_code == 400
    assert "receive it with a receipt that names the lot" in str(by_status.json())

    response = receive(
        admin_client, order,
        {"item": line["id"], "quantity": 4, "lot_code": "B1", "expiration_date": str(expiry)},
        {"item": line["id"], "quantity": 6, "lot_code": "B2"},
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert [(m["lots"][0]["lot_code"], m["delta"]) for m in response.json()["movements"]] == [
        ("B1", 4),
        ("B2", 6),
    ]
    assert dict(Lot.objects.values_list("code", "quantity")) == {"B1": 4, "B2": 6}
    assert Lot.objects.get(code="B1").expiration_date == expiry
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "received"


def test_receiving_by_status_receives_the_remainder(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    bread = ProductFactory(organization=organization, sku="BREAD")
    order = order_of((milk, 10), (bread, 4))
    milk_line, _ = order["items"]
    assert receive(admin_client, order, {"item": milk_line["id"], "quantity": 7}).status_code == 201

    response = admin_client.patch(
        f"/api/purchase-orders/{order['id']}/", {"status": "received"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert [item["received_quantity"] for item in response.json()["items"]] == [10, 4]
    assert quantity(milk) == 10 and quantity(bread) == 4
    deltas = StockMovement.objects.filter(source="purchase_order").order_by("id")
    assert [m.delta for m in deltas] == [7, 3, 4]


def test_closing_a_partially_received_order(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = order_of((milk, 10))
    path = f"/api/purchase-orders/{order['id']}/"
    assert admin_client.patch(path, {"status": "closed"}, format="json").status_code == 409
    line = order["items"][0]
    assert receive(admin_client, order, {"item": line["id"], "quantity": 7}).status_code == 201

    response = admin_client.patch(path, {"status": "closed"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert quantity(milk) == 7  # the rest will not come: nothing moves
    assert receive(admin_client, order, {"item": line["id"], "quantity": 1}).status_code == 409
    assert admin_client.patch(path, {"status": "received"}, format="json").status_code == 409
    assert admin_client.patch(path, {"notes": "late"}, format="json").status_code == 409
    assert admin_client.patch(path, {"status": "cancelled"}, format="json").status_code == 409


def test_a_partially_received_order_keeps_its_lines(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = order_of((milk, 10))
    path = f"/api/purchase-orders/{order['id']}/"
    assert (
        receive(admin_client, order, {"item": order["items"][0]["id"], "quantity": 2}).status_code
        == 201
    )
    items = {"items": [{"product": milk.pk, "quantity": 1, "unit_cost": "1.00"}]}
    assert admin_client.patch(path, items, format="json").status_code == 409
    assert admin_client.patch(path, {"status": "cancelled"}, format="json").status_code == 409
    assert admin_client.patch(path, {"notes": "rest next week"}, format="json").status_code == 200
    assert admin_client.delete(path).status_code == 409
    assert admin_client.patch(
        path, {"status": "partially_received"}, format="json"
    ).status_code == 409  # fmt: skip


def test_a_receipt_at_another_location(admin_client, organization, order_of):
    milk = ProductFactory(organization=organization, sku="MILK")
    back = stock.create_location(organization=organization, name="Back room")
    order = order_of((milk, 3))
    response = receive(
        admin_client, order, {"item": order["items"][0]["id"], "quantity": 3}, location=back.pk
    )
    assert response.status_code == 201
    assert response.json()["location"] == back.pk
    assert StockLevel.objects.get(product=milk, location=back).quantity == 3


def test_receipts_are_for_managers_and_of_the_callers_organization(
    sales_client, other_admin_client, organization, order_of
):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = order_of((milk, 3))
    line = {"item": order["items"][0]["id"], "quantity": 1}
    assert receive(sales_client, order, line).status_code == 403
    assert receive(other_admin_client, order, line).status_code == 404
    assert other_admin_client.get(
        f"/api/purchase-orders/{order['id']}/receipts/"
    ).status_code == 404  # fmt: skip


def test_listing_receipts_takes_constant_queries(
    admin_client, organization, order_of, django_assert_max_num_queries
):
    products = [ProductFactory(organization=organization) for _ in range(4)]
    order = order_of(*[(p, 10) for p in products])
    for item in order["items"]:
        assert receive(admin_client, order, {"item": item["id"], "quantity": 2}).status_code == 201
    with django_assert_max_num_queries(12):
        listed = admin_client.get(f"/api/purchase-orders/{order['id']}/receipts/")
    assert len(listed.json()) == 4
