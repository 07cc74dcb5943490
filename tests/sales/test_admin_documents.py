"""The admin shows what the API recorded on an order: a confirmed order's reserved stock, a
purchase order's receipts and returns, a sales order's customer returns; all read-only."""

import pytest
from django.urls import reverse

from tests.factories import ProductFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    return client


def test_a_confirmed_order_shows_what_it_reserves(
    staff_client, admin_client, stocked, organization
):
    milk = stocked(organization=organization, quantity=10, sku="MILK")
    order = admin_client.post(
        "/api/sales-orders/",
        {"status": "confirmed", "items": [{"product": milk.pk, "quantity": 3}]}, format="json",
    ).json()  # fmt: skip

    page = staff_client.get(
        reverse("admin:sales_salesorder_change", args=[order["id"]]), secure=True
    )

    assert page.status_code == 200
    assert "MILK at Main: 3" in page.content.decode()


def test_order_pages_list_receipts_and_returns(staff_client, admin_client, organization):
    milk = ProductFactory(organization=organization, sku="MILK", name="Milk", price="2.00")
    supplier = SupplierFactory(organization=organization)

    def post(path, body):
        response = admin_client.post(path, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    po = post("/api/purchase-orders/", {"supplier": supplier.pk, "items": [
        {"product": milk.pk, "quantity": 10, "unit_cost": "1.00"}]})  # fmt: skip
    line = {"item": po["items"][0]["id"], "quantity": 6}
    post(f"/api/purchase-orders/{po['id']}/receipts/", {"lines": [line]})
    post(f"/api/purchase-orders/{po['id']}/returns/", {"lines": [{**line, "quantity": 1}]})
    so = post("/api/sales-orders/", {"status": "fulfilled", "items": [
        {"product": milk.pk, "quantity": 2}]})  # fmt: skip
    post(f"/api/sales-orders/{so['id']}/returns/",
         {"lines": [{"item": so["items"][0]["id"], "quantity": 1}]})  # fmt: skip

    purchase = staff_client.get(
        reverse("admin:purchases_purchaseorder_change", args=[po["id"]]), secure=True
    ).content.decode()
    sale = staff_client.get(
        reverse("admin:sales_salesorder_change", args=[so["id"]]), secure=True
    ).content.decode()

    # every line reads `SKU name × quantity`, as order lines do
    assert "MILK Milk × 6" in purchase and "SR-00001" in purchase and "MILK Milk × 1" in purchase
    assert "CR-00001" in sale and "MILK Milk × 1" in sale
    assert 'name="receipts-TOTAL_FORMS"' in purchase  # the inline is there...
    assert 'name="receipts-0-note"' not in purchase  # ...shown, not editable
    assert 'name="returns-0-note"' not in purchase and 'name="returns-0-note"' not in sale
