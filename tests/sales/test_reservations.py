"""Confirmed sales orders reserve their stock (API.md, Sales orders and Products): what is
reserved leaves `available`, no other take can have it, fulfilment takes exactly it and
cancelling gives it back."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from core.dates import local_today
from core.models import Event
from inventory.models import Product
from sales.models import Reservation, SalesOrder
from stock import services as stock
from stock.models import StockLevel, StockMovement
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


def order(client, *lines, status=None, **fields):
    body = {"items": [{"product": p.pk, "quantity": q} for p, q in lines], **fields}
    if status:
        body["status"] = status
    return client.post("/api/sales-orders/", body, format="json")


def set_status(client, order_id, status):
    return client.patch(f"/api/sales-orders/{order_id}/", {"status": status}, format="json")


def figures(product):
    body = product.__class__.objects.get(pk=product.pk)
    return body.quantity, body.allocated


def test_confirming_reserves_every_line_and_leaves_the_rest_available(
    admin_client, stocked, organization
):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    bread = stocked(organization=organization, quantity=4, sku="BREAD")
    created = order(admin_client, (milk, 6), (bread, 4))
    response = set_status(admin_client, created.json()["id"], "confirmed")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    assert response.json()["confirmed_at"] is not None
    assert figures(milk) == (10, 6) and figures(bread) == (4, 4)
    body = admin_client.get(f"/api/products/{milk.pk}/").json()
    assert (body["quantity"], body["allocated"], body["available"]) == (10, 6, 4)
    (level,) = admin_client.get(f"/api/products/{milk.pk}/stock/").json()
    assert (level["quantity"], level["allocated"], level["available"]) == (10, 6, 4)
    assert sorted(Reservation.objects.values_list("level__product__sku", "quantity")) == [
        ("BREAD", 4),
        ("MILK", 6),
    ]
    assert not StockMovement.objects.filter(source="sales_order").exists()  # nothing moved


def test_a_short_line_refuses_the_whole_confirmation_and_changes_nothing(
    admin_client, stocked, organization
):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    bread = stocked(organization=organization, quantity=3, sku="BREAD")
    created = order(admin_client, (milk, 6), (bread, 4)).json()

    response = set_status(admin_client, created["id"], "confirmed")

    assert response.status_code == 400
    assert response.json() == {"items": ["Line 2 (BREAD): 4 requested, 3 available."]}
    assert figures(milk) == (10, 0) and figures(bread) == (3, 0)
    assert not Reservation.objects.exists()
    assert SalesOrder.objects.get(pk=created["id"]).status == "pending"
    # Created as confirmed: nothing is stored at all.
    assert order(admin_client, (bread, 4), status="confirmed").status_code == 400
    assert SalesOrder.objects.count() == 1


def test_reserved_stock_is_not_available_to_anything_else(admin_client, stocked, organization):
    product = stocked(organization=organization, quantity=10, sku="MILK")
    back = stock.create_location(organization=organization, name="Back room")
    assert order(admin_client, (product, 7), status="confirmed").status_code == 201

    other = order(admin_client, (product, 4), status="fulfilled")
    assert other.status_code == 400
    assert "4 requested, 3 available" in str(other.json())
    out = admin_client.post(
        "/api/stock/movements/",
        {"product": product.pk, "movement_type": "OUT", "quantity": 4},
        format="json",
    )
    assert out.status_code == 400 and "3 available" in str(out.json())
    moved = admin_client.post(
        "/api/stock/transfers/",
        {"product": product.pk, "from_location": stock.default_location(
            organization_id=organization.pk).pk, "to_location": back.pk, "quantity": 4},
        format="json",
    )  # fmt: skip
    assert moved.status_code == 400
    counted = admin_client.post(
        "/api/stock/movements/",
        {"product": product.pk, "movement_type": "ADJUST", "quantity": 6},
        format="json",
    )
    assert counted.status_code == 400 and "7 unit(s) are reserved" in str(counted.json())
    second = order(admin_client, (product, 4), status="confirmed")
    assert second.status_code == 400
    assert figures(product) == (10, 7)
    # What is left is still free.
    assert order(admin_client, (product, 3), status="fulfilled").status_code == 201
    assert figures(product) == (7, 7)


def test_fulfilling_a_confirmed_order_takes_exactly_its_reservations(
    admin_client, stocked, organization
):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    bread = stocked(organization=organization, quantity=5, sku="BREAD")
    created = order(admin_client, (milk, 6), (bread, 5), status="confirmed").json()

    response = set_status(admin_client, created["id"], "fulfilled")

    assert response.status_code == 200, response.json()
    assert response.json()["fulfilled_at"] is not None
    assert figures(milk) == (4, 0) and figures(bread) == (0, 0)
    assert not Reservation.objects.exists()
    assert not StockLevel.objects.filter(allocated__gt=0).exists()
    outs = StockMovement.objects.filter(source="sales_order").order_by("id")
    assert [(m.product.sku, m.delta, m.reference) for m in outs] == [
        ("MILK", -6, created["reference"]),
        ("BREAD", -5, created["reference"]),
    ]
    assert set_status(admin_client, created["id"], "cancelled").status_code == 409


def test_cancelling_a_confirmed_order_gives_its_stock_back(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    created = order(admin_client, (milk, 6), status="confirmed").json()

    response = set_status(admin_client, created["id"], "cancelled")

    assert response.status_code == 200
    assert figures(milk) == (10, 0)
    assert not Reservation.objects.exists()
    assert not StockMovement.objects.filter(source="sales_order").exists()
    assert set_status(admin_client, created["id"], "fulfilled").status_code == 409


def test_the_status_table_of_a_confirmed_order(admin_client, stocked, organization):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    created = order(admin_client, (milk, 2), status="confirmed").json()
    path = f"/api/sales-orders/{created['id']}/"

    assert set_status(admin_client, created["id"], "confirmed").status_code == 200  # resent
    assert figures(milk) == (10, 2)  # reserved once
    assert set_status(admin_client, created["id"], "pending").status_code == 409
    edit = admin_client.patch(path, {"items": [{"product": milk.pk, "quantity": 1}]}, format="json")
    assert edit.status_code == 409
    assert admin_client.patch(path, {"customer_name": "X"}, format="json").status_code == 409
    assert admin_client.delete(path).status_code == 409
    assert figures(milk) == (10, 2)


def test_lots_are_reserved_first_expiry_first_and_fulfilment_takes_those(
    admin_client, organization
):
    yoghurt = ProductFactory(organization=organization, sku="YOG", track_lots=True)
    today = local_today(None)
    for code, days, units in (("LATE", 20, 5), ("SOON", 3, 4), ("GONE", -1, 9)):
        expiry = today + datetime.timedelta(days)
        stock.record_movement(product=yoghurt, movement_type="IN", quantity=units, user=None,
                              lot_code=code, expiration_date=expiry)  # fmt: skip
    created = order(admin_client, (yoghurt, 6), status="confirmed").json()

    reserved = admin_client.get(f"/api/stock/levels/?product={yoghurt.pk}").json()["results"]
    assert {row["lot_code"]: row["allocated"] for row in reserved} == {
        "GONE": 0,
        "SOON": 4,
        "LATE": 2,
    }
    assert set_status(admin_client, created["id"], "fulfilled").status_code == 200
    (out,) = admin_client.get(
        "/api/stock/movements/", {"product": yoghurt.pk, "source": "sales_order"}
    ).json()["results"]
    assert {lot["lot_code"]: lot["delta"] for lot in out["lots"]} == {"SOON": -4, "LATE": -2}
    # Expired stock is never promised.
    refused = order(admin_client, (yoghurt, 4), status="confirmed")
    assert refused.status_code == 400
    assert "3 available. 9 more are there but expired." in str(refused.json())


def test_confirming_at_the_orders_location(admin_client, stocked, organization):
    product = stocked(organization=organization, quantity=2, sku="MILK")
    back = stock.create_location(organization=organization, name="Back room")
    stock.record_movement(product=product, movement_type="IN", quantity=5, user=None, location=back)

    assert order(admin_client, (product, 3), status="confirmed").status_code == 400  # Main has 2
    confirmed = order(admin_client, (product, 3), status="confirmed", location=back.pk)
    assert confirmed.status_code == 201
    assert StockLevel.objects.get(product=product, location=back).allocated == 3
    assert set_status(admin_client, confirmed.json()["id"], "fulfilled").status_code == 200
    assert StockLevel.objects.get(product=product, location=back).quantity == 2


def test_low_stock_is_on_available_and_a_confirmation_is_a_crossing(
    admin_client, stocked, organization
):
    product = stocked(organization=organization, quantity=10, sku="MILK", low_stock_threshold=5)
    crossings = Event.objects.filter(type__in=("stock.low", "stock.recovered"))
    crossings.delete()
    assert order(admin_client, (product, 4), status="confirmed").status_code == 201
    assert not admin_client.get(f"/api/products/{product.pk}/").json()["is_low_stock"]
    assert not crossings.exists()

    assert order(admin_client, (product, 1), status="confirmed").status_code == 201

    body = admin_client.get(f"/api/products/{product.pk}/").json()
    assert (body["available"], body["is_low_stock"]) == (5, True)
    assert [(event.data["product"], event.type) for event in crossings] == [
        (product.pk, "stock.low")
    ]
    listed = admin_client.get("/api/products/", {"low_stock": "true"}).json()["results"]
    assert [p["sku"] for p in listed] == ["MILK"]
    alerts = admin_client.get("/api/products/alerts/").json()
    assert [p["sku"] for p in alerts["low_stock"]] == ["MILK"]
    # A further confirmation while low is no new crossing.
    assert order(admin_client, (product, 1), status="confirmed").status_code == 201
    assert crossings.count() == 1


def test_products_order_by_available(admin_client, stocked, organization):
    a = stocked(organization=organization, quantity=10, sku="A")
    stocked(organization=organization, quantity=5, sku="B")
    assert order(admin_client, (a, 8), status="confirmed").status_code == 201
    listed = admin_client.get("/api/products/", {"ordering": "available"}).json()["results"]
    assert [(p["sku"], p["available"]) for p in listed] == [("A", 2), ("B", 5)]


def test_a_sales_rep_confirms_anyones_order(sales_client, admin_client, stocked, organization):
    product = stocked(organization=organization, quantity=3, sku="MILK")
    created = order(admin_client, (product, 2)).json()
    assert set_status(sales_client, created["id"], "confirmed").status_code == 200
    assert figures(product) == (3, 2)


def test_check_stock_ledger_reports_an_allocation_without_reservations(
    stocked, organization, capsys
):
    product = stocked(organization=organization, quantity=10, sku="MILK")
    Product.objects.filter(pk=product.pk).update(allocated=2)
    StockLevel.objects.filter(product=product).update(allocated=2)

    with pytest.raises(CommandError, match="1 difference"):
        call_command("check_stock_ledger")

    assert "allocated 2, reservations 0" in capsys.readouterr().out
    StockLevel.objects.filter(product=product).update(allocated=0)
    Product.objects.filter(pk=product.pk).update(allocated=0)


def test_a_sales_rep_cancels_only_their_pending_orders(sales_client, stocked, organization):
    product = stocked(organization=organization, quantity=5, sku="MILK")
    pending = order(sales_client, (product, 1)).json()
    confirmed = order(sales_client, (product, 2), status="confirmed").json()

    refused = set_status(sales_client, confirmed["id"], "cancelled")

    assert refused.status_code == 403
    assert "only pending orders" in refused.json()["detail"]
    assert figures(product) == (5, 2)
    assert set_status(sales_client, pending["id"], "cancelled").status_code == 200
    assert set_status(sales_client, confirmed["id"], "fulfilled").status_code == 200
