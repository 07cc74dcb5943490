"""Orders at a location (API.md, Purchase and Sales orders: `location`): goods arrive at and
leave from the order's location, the organization's default unless the order names one."""

import pytest

from purchases.models import PurchaseOrder
from sales.models import SalesOrder
from stock.models import Location
from tests.factories import ProductFactory, SupplierFactory
from tests.support.stock import levels

SALES = "/api/sales-orders/"
PURCHASES = "/api/purchase-orders/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def tea(stocked, organization, admin_client, back_room):
    """Four at Main, three in the back room."""
    product = stocked(quantity=4, organization=organization, sku="TEA-1", price="2.00")
    admin_client.post(
        "/api/stock/movements/",
        {"product": product.pk, "movement_type": "IN", "quantity": 3, "location": back_room.pk},
        format="json",
    )
    return product


@pytest.fixture
def supplier(organization):
    return SupplierFactory(organization=organization)


def sell(client, product, quantity, **extra):
    return client.post(
        SALES, {"items": [{"product": product.pk, "quantity": quantity}], **extra}, format="json"
    )


class TestSales:
    def test_the_default_location_unless_the_order_names_one(
        self, admin_client, tea, main, back_room
    ):
        response = sell(admin_client, tea, 1)
        assert response.status_code == 201
        assert response.json()["location"] == main.pk
        response = sell(admin_client, tea, 2, location=back_room.pk, status="fulfilled")
        assert response.status_code == 201, response.json()
        assert response.json()["location"] == back_room.pk
        assert levels(tea) == {("Main", None): 4, ("Back room", None): 1}

    def test_stock_elsewhere_does_not_fulfil_an_order(self, admin_client, tea, back_room):
        response = sell(admin_client, tea, 5, location=back_room.pk, status="fulfilled")
        assert response.status_code == 400
        assert "5 requested, 3 available" in str(response.json()["items"])
        assert not SalesOrder.objects.exists()
        assert levels(tea) == {("Main", None): 4, ("Back room", None): 3}

    def test_a_pending_orders_location_can_change_and_is_where_it_leaves_from(
        self, admin_client, tea, back_room
    ):
        order = sell(admin_client, tea, 3).json()
        response = admin_client.patch(f"{SALES}{order['id']}/", {"location": back_room.pk})
        assert response.status_code == 200, response.json()
        response = admin_client.patch(f"{SALES}{order['id']}/", {"status": "fulfilled"})
        assert response.status_code == 200, response.json()
        assert levels(tea) == {("Main", None): 4}

    def test_an_unknown_archived_or_other_organizations_location_is_400(
        self, admin_client, tea, other_location, organization
    ):
        shed = Location.objects.create(organization=organization, name="Shed", is_archived=True)
        for location in (other_location.pk, shed.pk, 999999, "main"):
            response = sell(admin_client, tea, 1, location=location)
            assert response.status_code == 400, location
            assert "location" in response.json()
        assert not SalesOrder.objects.exists()

    def test_the_order_shows_its_location_in_the_list(
        self, admin_client, tea, back_room, django_assert_max_num_queries
    ):
        for _ in range(5):
            sell(admin_client, tea, 1, location=back_room.pk)
        with django_assert_max_num_queries(8):
            results = admin_client.get(SALES).json()["results"]
        assert {row["location"] for row in results} == {back_room.pk}


class TestPurchases:
    def test_received_goods_arrive_at_the_orders_location(
        self, admin_client, tea, supplier, back_room
    ):
        response = admin_client.post(
            PURCHASES,
            {
                "supplier": supplier.pk,
                "location": back_room.pk,
                "items": [{"product": tea.pk, "quantity": 6, "unit_cost": "1.00"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        order = response.json()
        assert order["location"] == back_room.pk
        for status in ("submitted", "received"):
            response = admin_client.patch(f"{PURCHASES}{order['id']}/", {"status": status})
            assert response.status_code == 200, response.json()
        assert levels(tea) == {("Main", None): 4, ("Back room", None): 9}

    def test_a_lot_tracked_line_cannot_be_received_without_its_lot(
        self, admin_client, supplier, yoghurt
    ):
        order = admin_client.post(
            PURCHASES,
            {
                "supplier": supplier.pk,
                "items": [{"product": yoghurt.pk, "quantity": 6, "unit_cost": "1.00"}],
            },
            format="json",
        ).json()
        admin_client.patch(f"{PURCHASES}{order['id']}/", {"status": "submitted"})
        response = admin_client.patch(f"{PURCHASES}{order['id']}/", {"status": "received"})
        assert response.status_code == 400
        assert "Line 1 (YOG-1)" in str(response.json()["items"])
        assert PurchaseOrder.objects.get(pk=order["id"]).status == "submitted"
        assert levels(yoghurt) == {}

    def test_the_location_is_fixed_once_submitted(self, admin_client, tea, supplier, back_room):
        order = admin_client.post(
            PURCHASES,
            {
                "supplier": supplier.pk,
                "items": [{"product": tea.pk, "quantity": 1, "unit_cost": "1.00"}],
            },
            format="json",
        ).json()
        admin_client.patch(f"{PURCHASES}{order['id']}/", {"status": "submitted"})
        response = admin_client.patch(f"{PURCHASES}{order['id']}/", {"location": back_room.pk})
        assert response.status_code == 409
        assert PurchaseOrder.objects.get(pk=order["id"]).location.name == "Main"

    def test_another_organizations_location_is_400(
        self, admin_client, tea, supplier, other_location
    ):
        response = admin_client.post(
            PURCHASES,
            {
                "supplier": supplier.pk,
                "location": other_location.pk,
                "items": [{"product": tea.pk, "quantity": 1, "unit_cost": "1.00"}],
            },
            format="json",
        )
        assert response.status_code == 400
        assert "location" in response.json()


def test_a_variation_is_sold_from_the_orders_location_like_any_product(
    admin_client, organization, back_room
):
    parent = ProductFactory(organization=organization, sku="SHIRT")
    response = admin_client.post(
        f"/api/products/{parent.pk}/variations/",
        {"attributes": {"size": "M"}, "sku": "SHIRT-M"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    variation = response.json()["id"]
    admin_client.post(
        "/api/stock/movements/",
        {"product": variation, "movement_type": "IN", "quantity": 2, "location": back_room.pk},
        format="json",
    )
    response = admin_client.post(
        SALES,
        {
            "items": [{"product": variation, "quantity": 2}],
            "location": back_room.pk,
            "status": "fulfilled",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
