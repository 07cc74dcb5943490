"""API.md "Transfers": /api/stock/transfers/ — an OUT and an IN in one transaction."""

import pytest

from inventory.models import Product
from stock.models import Location, StockMovement, Transfer
from tests.factories import ProductFactory
from tests.support.stock import days, levels, receive_lot

URL = "/api/stock/transfers/"
FIELDS = {
    "id",
    "reference",
    "product",
    "from_location",
    "to_location",
    "quantity",
    "note",
    "movements",
    "performed_by",
    "created_at",
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def tea(stocked, organization):
    return stocked(quantity=10, organization=organization, sku="TEA-1")


def transfer(client, product, source, target, quantity, **extra):
    body = {
        "product": product.pk,
        "from_location": source.pk,
        "to_location": target.pk,
        "quantity": quantity,
        **extra,
    }
    return client.post(URL, body, format="json")


def test_a_transfer_moves_stock_and_records_both_movements(
    manager_client, manager_user, tea, main, back_room
):
    response = transfer(manager_client, tea, main, back_room, 4, note="for the weekend")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert (body["reference"], body["quantity"], body["performed_by"]) == ("TR-00001", 4, "mike")
    out, into = body["movements"]
    assert (out["movement_type"], out["location"], out["delta"], out["balance_after"]) == (
        "OUT",
        main.pk,
        -4,
        6,
    )
    assert (into["movement_type"], into["location"], into["delta"], into["balance_after"]) == (
        "IN",
        back_room.pk,
        4,
        10,
    )
    assert {out["source"], into["source"]} == {"transfer"}
    assert {out["reference"], into["reference"]} == {"TR-00001"}
    assert levels(tea) == {("Main", None): 6, ("Back room", None): 4}
    assert Product.objects.get(pk=tea.pk).quantity == 10
    assert transfer(manager_client, tea, back_room, main, 1).json()["reference"] == "TR-00002"


def test_lots_move_with_their_code_and_expiry_by_fefo(admin_client, yoghurt, main, back_room):
    receive_lot(yoghurt, "SOON", 3, expires=days(2))
    receive_lot(yoghurt, "LATE", 5, expires=days(20))
    receive_lot(yoghurt, "GONE", 2, expires=days(-1))
    response = transfer(admin_client, yoghurt, main, back_room, 4)
    assert response.status_code == 201, response.json()
    out, into = response.json()["movements"]
    assert [(line["lot_code"], line["delta"]) for line in out["lots"]] == [
        ("SOON", -3),
        ("LATE", -1),
    ]
    assert [
        (line["lot_code"], line["expiration_date"], line["delta"]) for line in into["lots"]
    ] == [
        ("SOON", str(days(2)), 3),
        ("LATE", str(days(20)), 1),
    ]
    assert levels(yoghurt) == {
        ("Main", "LATE"): 4,
        ("Main", "GONE"): 2,
        ("Back room", "SOON"): 3,
        ("Back room", "LATE"): 1,
    }


def test_a_named_lot_moves_even_when_expired(admin_client, yoghurt, main, back_room):
    """Moving expired stock to a quarantine shelf is the shop's choice."""
    receive_lot(yoghurt, "GONE", 2, expires=days(-1))
    response = transfer(admin_client, yoghurt, main, back_room, 2, lot_code="gone")
    assert response.status_code == 201, response.json()
    assert levels(yoghurt) == {("Back room", "GONE"): 2}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"quantity": 11}, "quantity"),  # only what is available there
        ({"quantity": 0}, "quantity"),
        ({"quantity": "2.5"}, "quantity"),
        ({"to_location": "from"}, "to_location"),  # the same location twice
        ({"to_location": 999999}, "to_location"),
        ({"lot_code": "L-1"}, "lot_code"),  # tea keeps no lots
        ({"product": None}, "product"),
    ],
)
def test_bad_transfers_are_400_and_change_nothing(
    admin_client, tea, main, back_room, change, field
):
    body = {
        "product": tea.pk,
        "from_location": main.pk,
        "to_location": back_room.pk,
        "quantity": 3,
        **change,
    }
    if body["to_location"] == "from":
        body["to_location"] = main.pk
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert levels(tea) == {("Main", None): 10}
    assert not Transfer.objects.exists()
    assert StockMovement.objects.filter(product=tea).count() == 1


def test_an_archived_or_other_organizations_location_is_400(
    admin_client, tea, main, back_room, other_location
):
    assert transfer(admin_client, tea, main, other_location, 1).status_code == 400
    Location.objects.filter(pk=back_room.pk).update(is_archived=True)
    response = transfer(admin_client, tea, main, back_room, 1)
    assert response.status_code == 400
    assert "archived" in str(response.json()["to_location"])
    assert levels(tea) == {("Main", None): 10}


def test_a_product_with_variations_is_400(admin_client, organization, main, back_room):
    parent = ProductFactory(organization=organization, sku="SHIRT")
    ProductFactory(organization=organization, parent=parent, sku="SHIRT-M")
    Product.objects.filter(pk=parent.pk).update(has_variations=True)
    response = transfer(admin_client, parent, main, back_room, 1)
    assert response.status_code == 400
    assert "SHIRT-M" in str(response.json()["product"])


def test_a_shortage_names_the_figures(admin_client, tea, main, back_room):
    response = transfer(admin_client, tea, back_room, main, 1)
    assert response.status_code == 400
    assert "TEA-1: 1 requested, 0 available." in str(response.json()["quantity"])


def test_roles_and_tenancy(sales_client, other_admin_client, admin_client, tea, main, back_room):
    assert transfer(sales_client, tea, main, back_room, 1).status_code == 403
    assert sales_client.get(URL).status_code == 403  # API.md: admin and manager
    made = transfer(admin_client, tea, main, back_room, 1).json()
    assert other_admin_client.get(f"{URL}{made['id']}/").status_code == 404
    assert other_admin_client.get(URL).json()["count"] == 0
    assert transfer(other_admin_client, tea, main, back_room, 1).status_code == 400
    assert admin_client.patch(f"{URL}{made['id']}/", {"quantity": 2}).status_code == 405
    assert admin_client.delete(f"{URL}{made['id']}/").status_code == 405


def test_list_newest_first_filtered_in_constant_queries(
    admin_client, tea, main, back_room, django_assert_max_num_queries
):
    for _ in range(5):
        transfer(admin_client, tea, main, back_room, 1)
    transfer(admin_client, tea, back_room, main, 2)
    with django_assert_max_num_queries(10):
        body = admin_client.get(URL).json()
    assert [row["reference"] for row in body["results"]][:2] == ["TR-00006", "TR-00005"]
    assert admin_client.get(URL, {"from_location": back_room.pk}).json()["count"] == 1
    assert admin_client.get(URL, {"product": tea.pk}).json()["count"] == 6
    movements = admin_client.get("/api/stock/movements/", {"reference": "TR-00006"}).json()
    assert [row["movement_type"] for row in movements["results"]] == ["IN", "OUT"]
