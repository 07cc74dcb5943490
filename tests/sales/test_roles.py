"""Roles a shop can trust (API.md, roles table and Sales orders): a sales rep sells at the
product's price, sees no cost figures, and edits, deletes and cancels only their own orders."""

import pytest

from sales.models import SalesOrder
from tests.factories import UserFactory
from tests.support.api import client_for
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

COST_FIELDS = {
    "cost_price",
    "average_cost",
    "unit_cost",
    "line_cost",
    "total_cost",
    "total_cost_value",
    "gross_margin",
}


def cost_figures(body) -> list:
    """Every cost figure anywhere in an answer (nested lists and objects included)."""
    if isinstance(body, list):
        return [value for item in body for value in cost_figures(item)]
    if isinstance(body, dict):
        own = [value for key, value in body.items() if key in COST_FIELDS]
        return own + [value for item in body.values() for value in cost_figures(item)]
    return []


@pytest.fixture
def trading(admin_client, organization, jam, stocked):
    """A shop with costs everywhere: a costed IN, a low product, a fulfilled sale, a return."""
    stocked(quantity=1, organization=organization, cost_price="0.40", low_stock_threshold=5)
    admin_client.post("/api/stock/movements/", {"product": jam.pk, "movement_type": "IN",
                                               "quantity": 5, "unit_cost": "1.30"})  # fmt: skip
    sale = admin_client.post(
        URL, {"items": [{"product": jam.pk, "quantity": 2}], "status": "fulfilled"}, format="json"
    ).json()
    returned = admin_client.post(
        f"{URL}{sale['id']}/returns/",
        {"lines": [{"item": sale["items"][0]["id"], "quantity": 1}]},
        format="json",
    ).json()
    movement = admin_client.get("/api/stock/movements/").json()["results"][0]["id"]
    return [
        "/api/products/",
        f"/api/products/{jam.pk}/",
        "/api/products/alerts/",
        "/api/dashboard/",
        "/api/dashboard/low-stock/",
        "/api/dashboard/total-sales/",
        "/api/dashboard/top-products/",
        "/api/dashboard/sales-over-time/",
        "/api/stock/movements/",
        f"/api/stock/movements/{movement}/",
        URL,
        f"{URL}{sale['id']}/",
        f"{URL}{sale['id']}/returns/",
        "/api/returns/",
        f"/api/returns/{returned['id']}/",
    ]


def test_no_cost_figure_reaches_a_sales_user(sales_client, manager_client, trading):
    for path in trading:
        shown = manager_client.get(path)
        hidden = sales_client.get(path)
        assert hidden.status_code == shown.status_code == 200, path
        figures = cost_figures(shown.json())
        assert figures and any(value not in (None, "0.00") for value in figures), path
        assert len(cost_figures(hidden.json())) == len(figures), path
        assert set(cost_figures(hidden.json())) == {None}, path


def test_a_sales_users_own_order_answers_without_costs(sales_client, jam):
    body = order(sales_client, jam, status="fulfilled").json()
    assert cost_figures(body) and set(cost_figures(body)) == {None}


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        ("/api/products/export/", ("cost_price", "average_cost")),
        ("/api/stock/movements/export/", ("unit_cost",)),
    ],
)
def test_the_cost_columns_of_exports_are_empty_for_sales(
    sales_client, manager_client, trading, path, columns
):
    import csv
    import io

    def rows(client):
        text = b"".join(client.get(path).streaming_content).decode().lstrip("\ufeff")
        return list(csv.DictReader(io.StringIO(text)))

    shown, hidden = rows(manager_client), rows(sales_client)
    assert len(shown) == len(hidden) > 0
    for column in columns:
        assert any(row[column] not in ("", "0.0000") for row in shown), column
        assert {row[column] for row in hidden} == {""}, column


def test_the_schema_says_every_cost_figure_is_nullable(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    seen = set()
    for name, component in schema["components"]["schemas"].items():
        if name.startswith(("PurchaseOrder", "PatchedPurchaseOrder")):
            continue  # the sales role cannot read purchase orders at all (403)
        for field_name, spec in component.get("properties", {}).items():
            if field_name in COST_FIELDS:
                seen.add(field_name)
                assert spec.get("nullable") is True, f"{name}.{field_name}"
    assert seen == COST_FIELDS
