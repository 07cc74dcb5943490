"""Returns to the supplier (API.md, Purchase orders): received goods go back, one OUT per line,
only what the line received less what went back before, and only available stock."""

import pytest

from inventory.models import Product
from purchases.models import SupplierReturn
from stock import services as stock
from stock.models import Lot
from tests.factories import ProductFactory, SupplierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def received(admin_client, organization):
    def make(*lines):
        body = {
            "supplier": SupplierFactory(organization=organization).pk,
            "status": "submitted",
            "items": [{"product": p.pk, "quantity": q, "unit_cost": "1.00"} for p, q in lines],
        }
        order = admin_client.post("/api/purchase-orders/", body, format="json").json()
        lots = {p.pk: {"lot_code": "B1"} if p.track_lots else {} for p, _ in lines}
        receipt = {"lines": [{"item": i["id"], "quantity": i["quantity"], **lots[i["product"]]}
                             for i in order["items"]]}  # fmt: skip
        response = admin_client.post(
            f"/api/purchase-orders/{order['id']}/receipts/", receipt, format="json"
        )
        assert response.status_code == 201, response.json()
        return admin_client.get(f"/api/purchase-orders/{order['id']}/").json()

    return make


def send_back(client, order, *lines, **fields):
    return client.post(
        f"/api/purchase-orders/{order['id']}/returns/", {"lines": list(lines), **fields},
        format="json",
    )  # fmt: skip


def quantity(product):
    return Product.objects.get(pk=product.pk).quantity


def test_received_goods_go_back_to_the_supplier(admin_client, organization, received):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = received((milk, 10))
    line = order["items"][0]

    response = send_back(admin_client, order, {"item": line["id"], "quantity": 4}, note="torn")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "SR-00001" and body["purchase_order"] == order["id"]
    (movement,) = body["movements"]
    assert (movement["movement_type"], movement["delta"], movement["source"]) == (
        "OUT", -4, "supplier_return"
    )  # fmt: skip
    assert quantity(milk) == 6
    detail = admin_client.get(f"/api/purchase-orders/{order['id']}/").json()
    assert detail["items"][0]["returned_quantity"] == 4
    assert [r["reference"] for r in admin_client.get(
        f"/api/purchase-orders/{order['id']}/returns/").json()] == ["SR-00001"]  # fmt: skip


def test_a_line_returns_at_most_what_it_received(admin_client, organization, received):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = received((milk, 5))
    line = order["items"][0]
    assert send_back(admin_client, order, {"item": line["id"], "quantity": 3}).status_code == 201

    response = send_back(admin_client, order, {"item": line["id"], "quantity": 3})

    assert response.status_code == 400
    assert response.json() == {
        "lines": ["Line 1 (MILK): 3 to return, 2 received and not returned yet."]
    }
    assert quantity(milk) == 2 and SupplierReturn.objects.count() == 1


def test_only_available_stock_goes_back(admin_client, organization, received):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = received((milk, 5))
    confirmed = admin_client.post(
        "/api/sales-orders/",
        {"status": "confirmed", "items": [{"product": milk.pk, "quantity": 4}]}, format="json",
    )  # fmt: skip
    assert confirmed.status_code == 201

    response = send_back(admin_client, order, {"item": order["items"][0]["id"], "quantity": 2})

    assert response.status_code == 400
    assert "2 requested, 1 available" in str(response.json()["lines"])
    assert quantity(milk) == 5 and not SupplierReturn.objects.exists()


def test_a_lot_goes_back_by_its_code(admin_client, organization, received):
    yoghurt = ProductFactory(organization=organization, sku="YOG", track_lots=True)
    stock.record_movement(product=yoghurt, movement_type="IN", quantity=3, user=None,
                          lot_code="B0")  # fmt: skip
    order = received((yoghurt, 5))
    line = order["items"][0]["id"]

    response = send_back(admin_client, order, {"item": line, "quantity": 2, "lot_code": "B1"})

    assert response.status_code == 201, response.json()
    assert response.json()["movements"][0]["lots"][0]["lot_code"] == "B1"
    assert dict(Lot.objects.values_list("code", "quantity")) == {"B0": 3, "B1": 3}
    unknown = send_back(admin_client, order, {"item": line, "quantity": 1, "lot_code": "NOPE"})
    assert unknown.status_code == 400


def test_nothing_received_nothing_to_return(admin_client, organization):
    milk = ProductFactory(organization=organization, sku="MILK")
    body = {"supplier": SupplierFactory(organization=organization).pk,
            "items": [{"product": milk.pk, "quantity": 5, "unit_cost": "1.00"}]}  # fmt: skip
    order = admin_client.post("/api/purchase-orders/", body, format="json").json()
    response = send_back(admin_client, order, {"item": order["items"][0]["id"], "quantity": 1})
    assert response.status_code == 400
    assert "0 received" in str(response.json())


def test_supplier_returns_are_for_managers(sales_client, organization, received):
    milk = ProductFactory(organization=organization, sku="MILK")
    order = received((milk, 5))
    response = send_back(sales_client, order, {"item": order["items"][0]["id"], "quantity": 1})
    assert response.status_code == 403


def test_a_return_says_what_to_claim_back_at_the_orders_unit_costs(
    admin_client, organization, django_assert_max_num_queries
):
    """Each line at its purchase order line's unit cost (not the average cost the OUT is
    valued at), and the return's total: the amount to claim from the supplier."""
    milk = ProductFactory(organization=organization, sku="MILK", cost_price="0.80")
    jam = ProductFactory(organization=organization, sku="JAM", cost_price="2.00")
    stock.record_initial_stock(product=milk, quantity=10, user=None)  # average 0.80 then
    body = {
        "supplier": SupplierFactory(organization=organization).pk,
        "status": "received",
        "items": [{"product": milk.pk, "quantity": 10, "unit_cost": "1.15"},
                  {"product": jam.pk, "quantity": 6, "unit_cost": "2.35"}],
    }  # fmt: skip
    order = admin_client.post("/api/purchase-orders/", body, format="json").json()
    milk_line, jam_line = order["items"]

    response = send_back(admin_client, order, {"item": milk_line["id"], "quantity": 3},
                         {"item": jam_line["id"], "quantity": 2})  # fmt: skip

    assert response.status_code == 201, response.json()
    returned = response.json()
    assert [(line["product"], line["quantity"], line["unit_cost"], line["line_total"])
            for line in returned["lines"]] == [
        (milk.pk, 3, "1.15", "3.45"), (jam.pk, 2, "2.35", "4.70"),
    ]  # fmt: skip
    assert returned["total_cost"] == "8.15"
    milk_out = next(m for m in returned["movements"] if m["product"] == milk.pk)
    assert milk_out["unit_cost"] == "0.9750"  # the OUT at the average: (8 + 11.50) / 20
    with django_assert_max_num_queries(8):
        (listed,) = admin_client.get(f"/api/purchase-orders/{order['id']}/returns/").json()
    assert (listed["total_cost"], [line["line_total"] for line in listed["lines"]]) == (
        "8.15", ["3.45", "4.70"],
    )  # fmt: skip
