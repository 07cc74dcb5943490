"""API.md "Reports": the dashboard's expired value from expired units, and `?location=`."""

import datetime
from decimal import Decimal

import pytest

from core.dates import local_today
from stock import services
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/dashboard/"


def days(n):
    return local_today(None) + datetime.timedelta(days=n)


@pytest.fixture
def spread(organization, stocked):
    """Tea: 6 at Main, 4 in the back room. Yoghurt (lots): an expired lot of 2 and a fresh lot
    of 10 at Main, 3 fresh in the back room. Milk: emptied in the back room.

    At cost: tea 6 at 1.00 then 4 at 1.50, average 1.2000; yoghurt 2 at 0.50, 10 at 0.80
    (0.7500), 3 at 0.80: average 11.40 / 15 = 0.7600; milk without a cost: 0."""
    back_room = services.create_location(organization=organization, name="Back room")
    drinks = CategoryFactory(organization=organization, name="Drinks")
    tea = stocked(
        6,
        organization=organization,
        sku="TEA",
        price="2.00",
        cost_price="1.00",
        category=drinks,
        low_stock_threshold=5,
    )
    services.record_movement(
        product=tea, movement_type="IN", quantity=4, user=None, location=back_room,
        unit_cost=Decimal("1.50"),
    )  # fmt: skip
    yoghurt = ProductFactory(organization=organization, sku="YOG", price="1.50", track_lots=True)
    for code, quantity, expires, location, cost in [
        ("OLD", 2, days(-1), None, "0.50"),
        ("NEW", 10, days(9), None, "0.80"),
        ("NEW", 3, days(9), back_room, "0.80"),
    ]:
        services.record_movement(
            product=yoghurt,
            movement_type="IN",
            quantity=quantity,
            user=None,
            lot_code=code,
            expiration_date=expires,
            location=location,
            unit_cost=Decimal(cost),
        )
    milk = stocked(0, organization=organization, sku="MILK", price="1.00", category=drinks)
    services.record_movement(
        product=milk, movement_type="IN", quantity=1, user=None, location=back_room
    )
    services.record_movement(
        product=milk, movement_type="OUT", quantity=1, user=None, location=back_room
    )
    return {
        "back_room": back_room,
        "main": services.default_location(organization_id=organization.pk),
        "drinks": drinks,
    }


def test_the_expired_value_counts_the_expired_lots_not_the_whole_product(admin_client, spread):
    body = admin_client.get(URL).json()
    assert body["total_quantity"] == 25
    assert body["total_inventory_value"] == "42.50"  # 10 * 2.00 + 15 * 1.50
    assert body["expired_stock_value"] == "3.00"  # the 2 expired units at 1.50
    assert body["total_cost_value"] == "23.40"  # 10 * 1.2000 + 15 * 0.7600
    assert body["out_of_stock_count"] == 1  # milk


def test_every_figure_at_one_location(admin_client, spread):
    body = admin_client.get(URL, {"location": spread["back_room"].pk}).json()
    drinks = spread["drinks"].pk
    assert body == {
        "currency": "USD",
        "total_products": 3,  # tea, yoghurt, and milk, which ran out there
        "total_quantity": 7,
        "total_inventory_value": "12.50",  # 4 * 2.00 + 3 * 1.50
        "total_cost_value": "7.08",  # 4 * 1.2000 + 3 * 0.7600
        "expired_stock_value": "0.00",
        "low_stock_count": 2,  # tea (4 <= 5) and milk (0 <= 0) there
        "out_of_stock_count": 1,
        "categories": [
            {
                "id": drinks,
                "name": "Drinks",
                "product_count": 2,
                "total_quantity": 4,
                "total_value": "8.00",
                "total_cost_value": "4.80",
            },
            {
                "id": None,
                "name": None,
                "product_count": 1,
                "total_quantity": 3,
                "total_value": "4.50",
                "total_cost_value": "2.28",
            },
        ],
    }
    main = admin_client.get(URL, {"location": spread["main"].pk}).json()
    assert (main["total_quantity"], main["expired_stock_value"], main["low_stock_count"]) == (
        18,
        "3.00",
        0,
    )
    assert main["total_cost_value"] == "16.32"  # 6 * 1.2000 + 12 * 0.7600


def test_a_location_not_of_the_organization_is_400(admin_client, other_admin_client, spread):
    for value in (spread["back_room"].pk + 1000, "main"):
        response = admin_client.get(URL, {"location": value})
        assert response.status_code == 400
        assert "location" in response.json()
    assert other_admin_client.get(URL, {"location": spread["back_room"].pk}).status_code == 400
    assert admin_client.get(URL, {"location": ""}).json()["total_quantity"] == 25
