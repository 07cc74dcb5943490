"""Roles a shop can trust (API.md, roles table and Sales orders): a sales rep sells at the
product's price, sees no cost figures, and edits, deletes and cancels only their own orders."""

import pytest

from sales.models import SalesOrder
from tests.conftest import client_for
from tests.factories import UserFactory
from users.models import Role

URL = "/api/sales-orders/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def jam(stocked, organization):
    return stocked(
        quantity=20, organization=organization, sku="JAM", price="2.99", cost_price="1.10"
    )


@pytest.fixture
def colleague(organization):
    return client_for(UserFactory(username="sue", organization=organization, role=Role.SALES))


def order(client, jam, **fields):
    body = {"items": [{"product": jam.pk, "quantity": 1, **fields.pop("line", {})}], **fields}
    return client.post(URL, body)


# --- Prices --------------------------------------------------------------------------------------


def test_a_sales_rep_cannot_sell_below_or_above_the_products_price(sales_client, jam):
    for price in ("0.01", "3.50"):
        response = order(sales_client, jam, status="fulfilled", line={"unit_price": price})
        assert response.status_code == 403
        assert "product's price" in response.json()["detail"]
    assert not SalesOrder.objects.exists()
    jam.refresh_from_db()
    assert jam.quantity == 20


def test_a_sales_rep_may_name_the_products_own_price(sales_client, jam):
    response = order(sales_client, jam, line={"unit_price": "2.99"})
    assert response.status_code == 201
    assert response.json()["items"][0]["unit_price"] == "2.99"


@pytest.mark.parametrize("who", ["admin_client", "manager_client"])
def test_admins_and_managers_set_any_price(request, jam, who):
    client = request.getfixturevalue(who)
    response = order(client, jam, status="fulfilled", line={"unit_price": "0.01"})
    assert response.status_code == 201
    assert response.json()["total_amount"] == "0.01"


def test_a_sales_rep_cannot_change_a_lines_price_by_patch_either(sales_client, jam):
    order_id = order(sales_client, jam).json()["id"]
    body = {"items": [{"product": jam.pk, "quantity": 1, "unit_price": "0.50"}]}
    assert sales_client.patch(f"{URL}{order_id}/", body).status_code == 403


# --- Another rep's orders -----------------------------------------------------------------------


def test_a_sales_rep_edits_deletes_and_cancels_only_their_own_orders(sales_client, colleague, jam):
    theirs = order(colleague, jam).json()["id"]
    url = f"{URL}{theirs}/"

    assert sales_client.patch(url, {"customer_name": "Mallory"}).status_code == 403
    assert (
        sales_client.patch(url, {"items": [{"product": jam.pk, "quantity": 9}]}).status_code == 403
    )
    assert sales_client.patch(url, {"status": "cancelled"}).status_code == 403
    assert sales_client.delete(url).status_code == 403
    assert SalesOrder.objects.get(pk=theirs).status == "pending"

    mine = order(sales_client, jam).json()["id"]
    assert sales_client.patch(f"{URL}{mine}/", {"customer_name": "Ada"}).status_code == 200
    assert sales_client.patch(f"{URL}{mine}/", {"status": "cancelled"}).status_code == 200
    assert sales_client.delete(f"{URL}{order(sales_client, jam).json()['id']}/").status_code == 204


def test_any_sales_rep_may_fulfil_a_colleagues_order(sales_client, colleague, jam):
    theirs = order(colleague, jam).json()["id"]

    response = sales_client.patch(f"{URL}{theirs}/", {"status": "fulfilled"})

    assert response.status_code == 200
    assert response.json()["status"] == "fulfilled"


def test_managers_and_admins_change_anyones_orders(manager_client, admin_client, colleague, jam):
    theirs = order(colleague, jam).json()["id"]
    assert manager_client.patch(f"{URL}{theirs}/", {"customer_name": "Bob"}).status_code == 200
    assert admin_client.delete(f"{URL}{theirs}/").status_code == 204


def test_a_sales_reps_own_fulfilled_order_is_still_a_409_to_edit(sales_client, jam):
    mine = order(sales_client, jam, status="fulfilled").json()["id"]
    assert sales_client.patch(f"{URL}{mine}/", {"customer_name": "Late"}).status_code == 409


# --- Cost figures ---------------------------------------------------------------------------------


def test_cost_figures_are_null_for_sales_in_lists_and_details(
    sales_client, manager_client, jam, stocked, organization
):
    stocked(quantity=1, organization=organization, cost_price="0.40", low_stock_threshold=5)
    for path in ("/api/products/", f"/api/products/{jam.pk}/", "/api/dashboard/low-stock/"):
        body = sales_client.get(path).json()
        rows = body.get("results", [body]) if isinstance(body, dict) else body
        assert all(row["cost_price"] is None for row in rows), path
    alerts = sales_client.get("/api/products/alerts/").json()
    assert alerts["low_stock"] and all(row["cost_price"] is None for row in alerts["low_stock"])
    assert manager_client.get("/api/products/alerts/").json()["low_stock"][0]["cost_price"]
    assert manager_client.get(f"/api/products/{jam.pk}/").json()["cost_price"] == "1.10"


def test_the_schema_says_cost_figures_are_nullable(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["Product"]["properties"]["cost_price"]["nullable"]
