"""Valuation (API.md): the moving-average cost a product's stock carries, the unit cost every
movement records, and the cost of goods a fulfilled sales line records, through the API."""

from decimal import Decimal

import pytest

from inventory.models import Product
from sales.models import SalesOrderItem
from stock import services
from stock.models import StockMovement
from tests.factories import ProductFactory, SupplierFactory
from tests.support.stock import MOVEMENTS, move

pytestmark = pytest.mark.django_db


def average(product) -> str:
    return str(Product.objects.get(pk=product.pk).average_cost)


def unit_costs(product) -> list[tuple[str, int, str]]:
    """(source, delta, unit cost) of the product's movements, oldest first."""
    return [
        (source, delta, str(cost))
        for source, delta, cost in StockMovement.objects.filter(product=product)
        .order_by("id")
        .values_list("source", "delta", "unit_cost")
    ]


@pytest.fixture
def milk(organization):
    return ProductFactory(organization=organization, sku="MILK", price="1.29", cost_price="0.70")


def test_the_worked_example(admin_client, milk, ledger_stays_true):
    # 10 at 0.70, then 20 at 0.8250: (7.00 + 16.50) / 30 = 0.78333 -> 0.7833
    for quantity, cost in ((10, "0.70"), (20, "0.8250")):
        response = move(admin_client, product=milk.pk, movement_type="IN", quantity=quantity,
                        unit_cost=cost)  # fmt: skip
        assert response.status_code == 201, response.json()
        assert response.json()["unit_cost"] == Decimal(cost).quantize(Decimal("0.0001")).__str__()
    assert average(milk) == "0.7833"
    assert admin_client.get(f"/api/products/{milk.pk}/").json()["average_cost"] == "0.7833"

    order = admin_client.post(
        "/api/sales-orders/",
        {"items": [{"product": milk.pk, "quantity": 6}], "status": "fulfilled"},
        format="json",
    ).json()

    (line,) = order["items"]
    assert (line["unit_cost"], line["line_cost"]) == ("0.7833", "4.70")
    assert (order["total_amount"], order["total_cost"], order["gross_margin"]) == (
        "7.74",  # 6 * 1.29
        "4.70",
        "3.04",
    )
    assert average(milk) == "0.7833"  # an OUT leaves the average as it is
    assert unit_costs(milk)[-1] == ("sales_order", -6, "0.7833")


def test_averages_round_half_even_to_four_places(admin_client, organization):
    # 1 at 0.0001 and 1 at 0: 0.00005 -> 0.0000 (half-even; half-up would give 0.0001)
    even = ProductFactory(organization=organization, sku="EVEN", price="1")
    # 1 at 0.0003 and 1 at 0: 0.00015 -> 0.0002
    odd = ProductFactory(organization=organization, sku="ODD", price="1")
    for product, first in ((even, "0.0001"), (odd, "0.0003")):
        move(admin_client, product=product.pk, movement_type="IN", quantity=1, unit_cost=first)
        move(admin_client, product=product.pk, movement_type="IN", quantity=1, unit_cost="0")
    assert (average(even), average(odd)) == ("0.0000", "0.0002")


def test_stock_at_zero_keeps_its_average_and_a_new_cost_starts_over(admin_client, milk):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=4, unit_cost="0.90")
    move(admin_client, product=milk.pk, movement_type="OUT", quantity=4)
    assert average(milk) == "0.9000"  # nothing on hand: the average stays as it was

    move(admin_client, product=milk.pk, movement_type="IN", quantity=2, unit_cost="1.10")

    assert average(milk) == "1.1000"  # (0 * 0.90 + 2 * 1.10) / 2
    assert unit_costs(milk) == [
        ("manual", 4, "0.9000"),
        ("manual", -4, "0.9000"),
        ("manual", 2, "1.1000"),
    ]


def test_movements_without_a_cost_are_valued_at_the_average_and_leave_it(
    admin_client, milk, back_room, ledger_stays_true
):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=3, unit_cost="0.80")
    move(admin_client, product=milk.pk, movement_type="IN", quantity=1, unit_cost="1.20")
    assert average(milk) == "0.9000"  # (2.40 + 1.20) / 4

    move(admin_client, product=milk.pk, movement_type="IN", quantity=6)  # no cost: the average
    move(admin_client, product=milk.pk, movement_type="ADJUST", quantity=12)  # found 2 more
    move(admin_client, product=milk.pk, movement_type="ADJUST", quantity=11)  # one less
    transfer = admin_client.post(
        "/api/stock/transfers/",
        {"product": milk.pk, "from_location": milk.levels.get().location_id,
         "to_location": back_room.pk, "quantity": 5},
        format="json",
    )  # fmt: skip
    assert transfer.status_code == 201, transfer.json()
    move(admin_client, product=milk.pk, movement_type="OUT", quantity=2, location=back_room.pk)

    assert average(milk) == "0.9000"
    assert [cost for *_, cost in unit_costs(milk)[2:]] == ["0.9000"] * 6
    assert [m["unit_cost"] for m in transfer.json()["movements"]] == ["0.9000", "0.9000"]


def test_opening_stock_is_valued_at_the_cost_price(admin_client):
    made = admin_client.post(
        "/api/products/", {"name": "Tea", "price": "4.00", "cost_price": "2.35", "quantity": 8}
    ).json()
    assert made["average_cost"] == "2.3500"
    (movement,) = admin_client.get(MOVEMENTS, {"product": made["id"]}).json()["results"]
    assert (movement["source"], movement["unit_cost"]) == ("initial", "2.3500")

    free = admin_client.post("/api/products/", {"name": "Gift", "price": "0", "quantity": 3}).json()
    assert free["average_cost"] == "0.0000"  # no cost price: valued at 0


def test_a_product_without_opening_stock_starts_at_its_cost_price(admin_client):
    made = admin_client.post("/api/products/", {"name": "Tea", "price": "4", "cost_price": "2.35"})
    product = made.json()
    assert product["average_cost"] == "2.3500"

    response = move(admin_client, product=product["id"], movement_type="IN", quantity=5)

    assert response.json()["unit_cost"] == "2.3500"  # a first IN without a cost takes it


def test_a_variation_opens_at_its_own_cost_price(admin_client, organization):
    shirt = ProductFactory(organization=organization, sku="SHIRT", price="10")
    response = admin_client.post(
        f"/api/products/{shirt.pk}/variations/",
        {"attributes": {"size": "M"}, "cost_price": "4.40", "quantity": 2},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["average_cost"] == "4.4000"


def _purchase(client, supplier, *lines, status="submitted"):
    response = client.post(
        "/api/purchase-orders/",
        {"supplier": supplier.pk, "status": status, "items": list(lines)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_receipts_bring_stock_in_at_the_lines_cost(admin_client, organization, milk):
    supplier = SupplierFactory(organization=organization)
    services.record_initial_stock(product=milk, quantity=10, user=None)  # 10 at 0.70
    order = _purchase(admin_client, supplier, {"product": milk.pk, "quantity": 30,
                                               "unit_cost": "0.85"})  # fmt: skip
    (item,) = order["items"]

    receipt = admin_client.post(
        f"/api/purchase-orders/{order['id']}/receipts/",
        {"lines": [{"item": item["id"], "quantity": 10}]},
        format="json",
    ).json()

    assert [m["unit_cost"] for m in receipt["movements"]] == ["0.8500"]
    assert average(milk) == "0.7750"  # (7.00 + 8.50) / 20
    admin_client.patch(f"/api/purchase-orders/{order['id']}/", {"status": "received"})
    assert average(milk) == "0.8125"  # (20 * 0.7750 + 20 * 0.85) / 40
    assert unit_costs(milk)[-1] == ("purchase_order", 20, "0.8500")


def test_a_purchase_line_costs_the_products_cost_price_unless_given(
    admin_client, organization, milk
):
    supplier = SupplierFactory(organization=organization)
    nameless = ProductFactory(organization=organization, sku="NOCOST", price="1", cost_price=None)

    order = _purchase(admin_client, supplier, {"product": milk.pk, "quantity": 2})
    assert order["items"][0]["unit_cost"] == "0.70"

    response = admin_client.post(
        "/api/purchase-orders/",
        {"supplier": supplier.pk, "items": [{"product": milk.pk, "quantity": 1},
                                            {"product": nameless.pk, "quantity": 1}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {
        "items": ["Line 2 (NOCOST): give a unit_cost; the product has no default."]
    }


def test_a_customer_return_comes_back_at_the_cost_the_sale_recorded(admin_client, milk):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=10, unit_cost="0.60")
    order = admin_client.post(
        "/api/sales-orders/",
        {"items": [{"product": milk.pk, "quantity": 4}], "status": "fulfilled"},
        format="json",
    ).json()
    move(admin_client, product=milk.pk, movement_type="IN", quantity=6, unit_cost="1.00")
    assert average(milk) == "0.8000"  # (6 * 0.60 + 6 * 1.00) / 12

    returned = admin_client.post(
        f"/api/sales-orders/{order['id']}/returns/",
        {"lines": [{"item": order["items"][0]["id"], "quantity": 3}]},
        format="json",
    )

    assert returned.status_code == 201, returned.json()
    assert [m["unit_cost"] for m in returned.json()["movements"]] == ["0.6000"]
    assert average(milk) == "0.7600"  # (12 * 0.80 + 3 * 0.60) / 15

    admin_client.post(
        f"/api/sales-orders/{order['id']}/returns/",
        {"restock": False, "lines": [{"item": order["items"][0]["id"], "quantity": 1}]},
        format="json",
    )
    assert average(milk) == "0.7600"  # damaged goods do not come back into stock


def test_a_return_to_the_supplier_leaves_at_the_average(admin_client, organization, milk):
    supplier = SupplierFactory(organization=organization)
    move(admin_client, product=milk.pk, movement_type="IN", quantity=5, unit_cost="0.50")
    order = _purchase(admin_client, supplier, {"product": milk.pk, "quantity": 5,
                                               "unit_cost": "0.80"}, status="received")  # fmt: skip
    assert average(milk) == "0.6500"

    sent = admin_client.post(
        f"/api/purchase-orders/{order['id']}/returns/",
        {"lines": [{"item": order["items"][0]["id"], "quantity": 2}]},
        format="json",
    )

    assert [m["unit_cost"] for m in sent.json()["movements"]] == ["0.6500"]
    assert average(milk) == "0.6500"


def test_a_confirmed_order_records_its_cost_when_fulfilled(admin_client, milk):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=9, unit_cost="0.3333")
    order = admin_client.post(
        "/api/sales-orders/",
        {"items": [{"product": milk.pk, "quantity": 3}, {"product": milk.pk, "quantity": 1}],
         "status": "confirmed"},
        format="json",
    ).json()  # fmt: skip
    assert (order["total_cost"], order["gross_margin"]) == (None, None)  # not fulfilled yet
    assert [(i["unit_cost"], i["line_cost"]) for i in order["items"]] == [(None, None)] * 2

    body = admin_client.patch(f"/api/sales-orders/{order['id']}/", {"status": "fulfilled"}).json()

    assert [(i["unit_cost"], i["line_cost"]) for i in body["items"]] == [
        ("0.3333", "1.00"),  # 3 * 0.3333 = 0.9999
        ("0.3333", "0.33"),
    ]
    assert (body["total_cost"], body["gross_margin"]) == ("1.33", "3.83")  # 5.16 - 1.33
    listed = admin_client.get("/api/sales-orders/").json()["results"][0]
    assert (listed["total_cost"], listed["gross_margin"]) == ("1.33", "3.83")


def test_a_cancelled_order_has_no_cost(admin_client, milk):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=2, unit_cost="0.50")
    order = admin_client.post(
        "/api/sales-orders/", {"items": [{"product": milk.pk, "quantity": 1}]}, format="json"
    ).json()
    body = admin_client.patch(f"/api/sales-orders/{order['id']}/", {"status": "cancelled"}).json()
    assert (body["total_cost"], body["gross_margin"]) == (None, None)
    assert not SalesOrderItem.objects.filter(unit_cost__isnull=False).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"movement_type": "IN", "unit_cost": "-0.01"}, "unit_cost"),
        ({"movement_type": "IN", "unit_cost": "0.12345"}, "unit_cost"),
        ({"movement_type": "IN", "unit_cost": "NaN"}, "unit_cost"),
        ({"movement_type": "IN", "unit_cost": "1e400"}, "unit_cost"),
        ({"movement_type": "IN", "unit_cost": "10000000000000"}, "unit_cost"),
        ({"movement_type": "IN", "unit_cost": [1]}, "unit_cost"),
        ({"movement_type": "OUT", "unit_cost": "1.00"}, "unit_cost"),
        ({"movement_type": "ADJUST", "unit_cost": "1.00"}, "unit_cost"),
    ],
)
def test_a_bad_unit_cost_is_a_400_and_changes_nothing(admin_client, milk, body, field):
    services.record_initial_stock(product=milk, quantity=5, user=None)

    response = move(admin_client, product=milk.pk, quantity=1, **body)

    assert response.status_code == 400
    assert field in response.json()
    assert StockMovement.objects.filter(product=milk).count() == 1
    assert average(milk) == "0.7000"


def test_the_service_refuses_a_cost_on_anything_but_an_in(milk):
    services.record_initial_stock(product=milk, quantity=5, user=None)
    with pytest.raises(services.InvalidStockChange):
        services.record_movement(
            product=milk, movement_type="OUT", quantity=1, user=None, unit_cost=Decimal("1")
        )
    with pytest.raises(services.InvalidStockChange):
        services.record_movement(
            product=milk, movement_type="IN", quantity=1, user=None, unit_cost=Decimal("-1")
        )
    assert average(milk) == "0.7000"


def test_the_movement_export_has_the_unit_cost(admin_client, milk):
    move(admin_client, product=milk.pk, movement_type="IN", quantity=3, unit_cost="0.7125")
    lines = b"".join(admin_client.get(f"{MOVEMENTS}export/").streaming_content).decode()
    header, row = lines.lstrip("\ufeff").splitlines()
    columns = header.split(",")
    assert columns.index("unit_cost") == columns.index("quantity") + 1
    assert row.split(",")[columns.index("unit_cost")] == "0.7125"
