"""Replenishment (API.md): reorder rules, what is due (available + on order at the location
against the rule), the suggested quantity raised to the minimum order quantity and rounded up
to whole packs, sales pace from the ledger, and the draft orders made once."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction

from core.dates import local_today
from purchases.models import PurchaseOrder
from replenishment import services
from replenishment.models import ReorderRule
from replenishment.selectors import low_rules
from stock import services as stock_services
from suppliers.models import SupplierProduct
from tests.factories import ProductFactory, SupplierFactory, UserFactory
from tests.support.shops import sell
from users.models import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]

NOW = datetime.datetime.now(datetime.UTC)
RULES = "/api/reorder-rules/"
DUE = "/api/replenishment/"
ORDERS = "/api/replenishment/orders/"


@pytest.fixture
def main(organization):
    return stock_services.default_location(organization_id=organization.pk)


@pytest.fixture
def back_room(organization):
    return stock_services.create_location(organization=organization, name="Back room")


@pytest.fixture
def dairy(organization):
    return SupplierFactory(organization=organization, name="Dairy Co")


@pytest.fixture
def bakery(organization):
    return SupplierFactory(organization=organization, name="Bakery Ltd")


def product(organization, sku, quantity=0, *, location=None, cost_price=None, **fields):
    made = ProductFactory(organization=organization, sku=sku, cost_price=cost_price, **fields)
    if quantity:
        stock_services.record_movement(
            product=made, movement_type="IN", quantity=quantity, user=None, location=location
        )
    return made


def sells(organization, made, supplier, **fields):
    return SupplierProduct.objects.create(
        organization=organization,
        product=made,
        supplier=supplier,
        unit_cost=fields.pop("unit_cost", Decimal("1.00")),
        **fields,
    )


def rule(organization, made, location, *, low, high, supplier=None, **fields):
    return ReorderRule.objects.create(
        organization=organization,
        product=made,
        location=location,
        supplier=supplier,
        min_quantity=low,
        max_quantity=high,
        **fields,
    )


def due(client, **params):
    response = client.get(DUE, params)
    assert response.status_code == 200, response.json()
    return response.json()


# --- Reorder rules ------------------------------------------------------------------------------


def test_a_rule_defaults_to_the_default_location_and_the_preferred_supplier(
    manager_client, organization, main, dairy, bakery
):
    milk = product(organization, "MILK")
    sells(organization, milk, bakery)
    sells(organization, milk, dairy, is_preferred=True)

    response = manager_client.post(
        RULES, {"product": milk.pk, "min_quantity": 5, "max_quantity": 20}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["location"], body["supplier"], body["sku"]) == (main.pk, dairy.pk, "MILK")
    assert body["snoozed_until"] is None


@pytest.mark.parametrize(
    "body, field",
    [({"min_quantity": 5, "max_quantity": 5}, "max_quantity"),
     ({"min_quantity": -1, "max_quantity": 5}, "min_quantity"),
     ({"min_quantity": 1, "max_quantity": "x"}, "max_quantity"),
     ({"max_quantity": 5}, "min_quantity")],
)  # fmt: skip
def test_bad_rules_are_a_400(manager_client, organization, body, field):
    milk = product(organization, "MILK")

    response = manager_client.post(RULES, {"product": milk.pk, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ReorderRule.objects.exists()


def test_one_rule_per_product_and_location(manager_client, organization, main, back_room):
    milk = product(organization, "MILK")
    body = {"product": milk.pk, "min_quantity": 1, "max_quantity": 5}
    assert manager_client.post(RULES, body, format="json").status_code == 201
    assert manager_client.post(RULES, {**body, "location": back_room.pk},
                               format="json").status_code == 201  # fmt: skip

    response = manager_client.post(RULES, body, format="json")

    assert response.status_code == 400
    assert ReorderRule.objects.count() == 2


def test_a_product_with_variations_takes_no_rule(manager_client, organization):
    shirt = product(organization, "SHIRT")
    ProductFactory(organization=organization, parent=shirt, sku="SHIRT-S")
    shirt.has_variations = True
    shirt.save(update_fields=["has_variations"])

    response = manager_client.post(
        RULES, {"product": shirt.pk, "min_quantity": 1, "max_quantity": 5}, format="json"
    )

    assert response.status_code == 400
    assert "product" in response.json()


def test_a_patch_keeps_max_above_min_against_the_stored_rule(manager_client, organization, main):
    made = rule(organization, product(organization, "MILK"), main, low=2, high=10)

    refused = manager_client.patch(f"{RULES}{made.pk}/", {"min_quantity": 10}, format="json")
    snoozed = manager_client.patch(
        f"{RULES}{made.pk}/", {"snoozed_until": "2030-01-01"}, format="json"
    )

    assert refused.status_code == 400
    assert snoozed.status_code == 200
    made.refresh_from_db()
    assert (made.min_quantity, made.snoozed_until) == (2, datetime.date(2030, 1, 1))


def test_sales_reads_rules_and_writes_none(sales_client, organization, main):
    milk = product(organization, "MILK")
    rule(organization, milk, main, low=1, high=5)

    assert sales_client.get(RULES).json()["count"] == 1
    assert (
        sales_client.post(
            RULES, {"product": milk.pk, "min_quantity": 1, "max_quantity": 5}, format="json"
        ).status_code
        == 403
    )
    assert sales_client.post(ORDERS, {}, format="json").status_code == 403


def test_another_organizations_rules_are_out_of_reach(
    manager_client, other_admin_client, organization, other_organization, main, dairy
):
    milk = product(organization, "MILK")
    made = rule(organization, milk, main, low=5, high=10, supplier=dairy)
    theirs = product(other_organization, "THEIRS")

    assert other_admin_client.get(RULES).json()["results"] == []
    assert other_admin_client.get(f"{RULES}{made.pk}/").status_code == 404
    assert other_admin_client.patch(f"{RULES}{made.pk}/", {"min_quantity": 0},
                                    format="json").status_code == 404  # fmt: skip
    assert other_admin_client.delete(f"{RULES}{made.pk}/").status_code == 404
    assert due(other_admin_client) == []
    assert other_admin_client.post(ORDERS, {}, format="json").json() == {"purchase_orders": []}
    # Their product, or my supplier for their rule: a 400.
    response = manager_client.post(
        RULES, {"product": theirs.pk, "min_quantity": 1, "max_quantity": 5}, format="json"
    )
    assert response.status_code == 400
    response = other_admin_client.post(ORDERS, {"supplier": dairy.pk}, format="json")
    assert response.status_code == 400 and "supplier" in response.json()
    assert not PurchaseOrder.objects.exists()
    assert due(manager_client)[0]["sku"] == "MILK"


# --- What is due --------------------------------------------------------------------------------


def test_due_when_available_plus_on_order_is_at_most_the_minimum(
    admin_client, organization, main, dairy
):
    low = product(organization, "LOW", 4)
    at = product(organization, "AT", 5)
    above = product(organization, "ABOVE", 6)
    for made in (low, at, above):
        rule(organization, made, main, low=5, high=20, supplier=dairy)

    rows = due(admin_client)

    assert [row["sku"] for row in rows] == ["AT", "LOW"]
    assert rows[1] | {"rule": None} == {
        "rule": None,
        "product": low.pk,
        "sku": "LOW",
        "product_name": low.name,
        "location": main.pk,
        "supplier": dairy.pk,
        "supplier_sku": None,
        "available": 4,
        "on_order": 0,
        "min_quantity": 5,
        "max_quantity": 20,
        "suggested_quantity": 16,
        "pack_size": 1,
        "packs": 16,
        "unit_cost": None,  # no supplier product, no cost price
        "line_cost": None,
        "average_daily_sales": "0.00",
        "days_of_cover": None,
    }


def test_reserved_stock_is_not_available(admin_client, organization, main, dairy):
    from orders.services import OrderItem
    from sales import services as sales

    milk = product(organization, "MILK", 8)
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    assert due(admin_client) == []

    sales.create_sales_order(
        organization=organization, user=None, items=[OrderItem(milk, 3)], status="confirmed"
    )

    assert [(row["sku"], row["available"]) for row in due(admin_client)] == [("MILK", 5)]


def test_a_snoozed_rule_is_due_again_the_day_after(admin_client, organization, main, dairy):
    today = local_today(organization)
    rule(organization, product(organization, "MILK"), main, low=5, high=10, supplier=dairy,
         snoozed_until=today)  # fmt: skip
    rule(organization, product(organization, "BREAD"), main, low=5, high=10, supplier=dairy,
         snoozed_until=today - datetime.timedelta(days=1))  # fmt: skip

    assert [row["sku"] for row in due(admin_client)] == ["BREAD"]


def test_by_supplier_name_then_sku_no_supplier_last(
    admin_client, organization, main, back_room, dairy, bakery
):
    for sku, supplier, where in [("A-NONE", None, main), ("Z-BAKE", bakery, main),
                                 ("B-DAIRY", dairy, back_room), ("A-DAIRY", dairy, main),
                                 ("C-BAKE", bakery, back_room)]:  # fmt: skip
        rule(organization, product(organization, sku), where, low=1, high=2, supplier=supplier)

    rows = due(admin_client)
    assert [row["sku"] for row in rows] == ["C-BAKE", "Z-BAKE", "A-DAIRY", "B-DAIRY", "A-NONE"]
    assert [row["sku"] for row in due(admin_client, location=back_room.pk)] == [
        "C-BAKE", "B-DAIRY"
    ]  # fmt: skip
    assert [row["sku"] for row in due(admin_client, supplier=dairy.pk)] == ["A-DAIRY", "B-DAIRY"]
    assert admin_client.get(DUE, {"location": "x"}).status_code == 400


def test_the_suggestion_is_raised_to_the_minimum_order_then_whole_packs(
    admin_client, organization, main, dairy
):
    milk = product(organization, "MILK", 3)
    sells(organization, milk, dairy, pack_size=10, minimum_order_quantity=24,
          unit_cost=Decimal("0.85"), supplier_sku="D-MILK")  # fmt: skip
    bread = product(organization, "BREAD", 0, cost_price="1.20")
    sells(organization, bread, dairy, pack_size=6)
    eggs = product(organization, "EGGS", 0, cost_price="0.30")  # no supplier product: cost price
    for made in (milk, bread, eggs):
        rule(organization, made, main, low=5, high=20, supplier=dairy)

    rows = {row["sku"]: row for row in due(admin_client)}

    # MILK: 20 - 3 = 17, raised to 24, rounded up to 3 packs of 10.
    assert {k: rows["MILK"][k] for k in ("suggested_quantity", "pack_size", "packs",
            "unit_cost", "line_cost", "supplier_sku")} == {
        "suggested_quantity": 30, "pack_size": 10, "packs": 3, "unit_cost": "0.85",
        "line_cost": "25.50", "supplier_sku": "D-MILK",
    }  # fmt: skip
    # BREAD: 20 in packs of 6: 4 packs, 24 units, at the supplier product's cost.
    assert (rows["BREAD"]["suggested_quantity"], rows["BREAD"]["packs"]) == (24, 4)
    assert rows["BREAD"]["unit_cost"] == "1.00"
    assert (rows["EGGS"]["suggested_quantity"], rows["EGGS"]["unit_cost"]) == (20, "0.30")


def test_sales_pace_and_days_of_cover_come_from_the_locations_sales(
    admin_client, organization, admin_user, main, back_room, dairy
):
    milk = product(organization, "MILK", 100)
    stock_services.record_movement(
        product=milk, movement_type="IN", quantity=50, user=None, location=back_room
    )
    sell(organization, admin_user, milk, 30, on=NOW)
    sell(organization, admin_user, milk, 15, on=NOW)
    rule(organization, milk, main, low=60, high=100, supplier=dairy)
    rule(organization, milk, back_room, low=60, high=100, supplier=dairy)

    rows = {row["location"]: row for row in due(admin_client)}

    # 45 sold from Main over 90 days: 0.50 a day; 55 left there last 110.0 days.
    assert (rows[main.pk]["average_daily_sales"], rows[main.pk]["days_of_cover"]) == (
        "0.50", "110.0"
    )  # fmt: skip
    assert (rows[back_room.pk]["average_daily_sales"], rows[back_room.pk]["days_of_cover"]) == (
        "0.00", None
    )  # fmt: skip


def test_sales_older_than_90_days_do_not_count(admin_client, organization, admin_user, main, dairy):
    milk = product(organization, "MILK", 100)
    long_ago = NOW - datetime.timedelta(days=91)
    with time_machine.travel(long_ago, tick=False):
        sell(organization, admin_user, milk, 90, on=long_ago)
    rule(organization, milk, main, low=20, high=40, supplier=dairy)

    assert due(admin_client)[0]["average_daily_sales"] == "0.00"


def test_sales_users_see_no_costs(sales_client, organization, main, dairy):
    milk = product(organization, "MILK", cost_price="1.00")
    rule(organization, milk, main, low=5, high=10, supplier=dairy)

    (row,) = due(sales_client)

    assert (row["unit_cost"], row["line_cost"], row["suggested_quantity"]) == (None, None, 10)


@pytest.mark.parametrize("rules", [2, 30])
def test_the_list_takes_a_constant_number_of_queries(
    admin_client, organization, main, back_room, dairy, bakery, rules,
    django_assert_max_num_queries,
):  # fmt: skip
    for n in range(rules):
        made = product(organization, f"P{n:02d}", n % 3, location=main if n % 3 else back_room)
        sells(organization, made, dairy if n % 2 else bakery, pack_size=2)
        rule(organization, made, main if n % 3 else back_room, low=5, high=9,
             supplier=dairy if n % 2 else bakery)  # fmt: skip

    # The user and their permissions (4), what is on order (1), the rules (1) in a savepoint
    # where hash joins are off for that statement (3) and set back after it, as the test's
    # transaction is around it (1: a request's own transaction's commit sets it back).
    with django_assert_max_num_queries(10):
        rows = due(admin_client)

    assert len(rows) == rules


# --- On order -----------------------------------------------------------------------------------


def order(client, supplier, *lines, location=None, status="draft"):
    items = [{"product": p.pk, "quantity": q, "unit_cost": "1.00"} for p, q in lines]
    body = {"supplier": supplier.pk, "status": status, "items": items}
    if location is not None:
        body["location"] = location.pk
    response = client.post("/api/purchase-orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def on_order(client, made):
    return client.get(f"/api/products/{made.pk}/").json()["on_order"]


def test_on_order_counts_open_orders_drafts_included_until_received(
    admin_client, organization, main, back_room, dairy
):
    milk = product(organization, "MILK")
    rule(organization, milk, main, low=20, high=40, supplier=dairy)
    draft = order(admin_client, dairy, (milk, 4))
    submitted = order(admin_client, dairy, (milk, 3), status="submitted")
    order(admin_client, dairy, (milk, 7), location=back_room)
    order(admin_client, dairy, (milk, 9), status="received")

    assert on_order(admin_client, milk) == 14
    (row,) = due(admin_client)
    # At Main: 9 received, 4 + 3 on order (the back room's 7 go elsewhere).
    assert (row["available"], row["on_order"], row["suggested_quantity"]) == (9, 7, 24)

    # A partial receipt: what came is available, the rest still on order.
    item = submitted["items"][0]["id"]
    response = admin_client.post(
        f"/api/purchase-orders/{submitted['id']}/receipts/",
        {"lines": [{"item": item, "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201
    assert on_order(admin_client, milk) == 12
    (row,) = due(admin_client)
    assert (row["available"], row["on_order"], row["suggested_quantity"]) == (11, 5, 24)

    # Closing it: the rest will not come. Cancelling the draft: nothing comes.
    assert admin_client.patch(f"/api/purchase-orders/{submitted['id']}/", {"status": "closed"},
                              format="json").status_code == 200  # fmt: skip
    assert admin_client.patch(f"/api/purchase-orders/{draft['id']}/", {"status": "cancelled"},
                              format="json").status_code == 200  # fmt: skip
    assert on_order(admin_client, milk) == 7
    (row,) = due(admin_client)
    assert (row["available"], row["on_order"], row["suggested_quantity"]) == (11, 0, 29)


def test_covered_by_what_is_on_order_is_not_due(admin_client, organization, main, dairy):
    milk = product(organization, "MILK", 2)
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    order(admin_client, dairy, (milk, 4))

    assert due(admin_client) == []
    assert admin_client.get("/api/products/", {"needs_reorder": "true"}).json()["count"] == 0


def test_products_needs_reorder_and_on_order_on_the_list(
    admin_client, organization, main, dairy, django_assert_max_num_queries
):
    milk = product(organization, "MILK", 1)
    bread = product(organization, "BREAD", 50)
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    rule(organization, bread, main, low=5, high=20, supplier=dairy)
    order(admin_client, dairy, (bread, 6), (milk, 1))
    for _ in range(10):
        order(admin_client, dairy, (product(organization, "X" + str(_)), 2))

    due_ones = admin_client.get("/api/products/", {"needs_reorder": "true"}).json()
    others = admin_client.get("/api/products/", {"needs_reorder": "false"}).json()

    assert [(p["sku"], p["on_order"]) for p in due_ones["results"]] == [("MILK", 1)]
    assert "MILK" not in {p["sku"] for p in others["results"]}
    assert admin_client.get("/api/products/", {"needs_reorder": "maybe"}).status_code == 400
    with django_assert_max_num_queries(4):
        page = admin_client.get("/api/products/", {"page_size": 50}).json()
    assert {p["sku"]: p["on_order"] for p in page["results"]}["BREAD"] == 6


# --- Draft orders -------------------------------------------------------------------------------


def test_one_draft_per_supplier_and_location_and_a_second_run_orders_nothing(
    manager_client, manager_user, organization, main, back_room, dairy, bakery
):
    milk = product(organization, "MILK", 1)
    sells(organization, milk, dairy, unit_cost=Decimal("0.80"), pack_size=6)
    cream = product(organization, "CREAM", 0, cost_price="2.00")
    bread = product(organization, "BREAD", 0)
    sells(organization, bread, bakery, unit_cost=Decimal("1.10"))
    loose = product(organization, "LOOSE", 0, cost_price="1.00")
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    rule(organization, cream, main, low=5, high=10, supplier=dairy)
    rule(organization, milk, back_room, low=5, high=10, supplier=dairy)
    rule(organization, bread, main, low=2, high=12, supplier=bakery)
    rule(organization, loose, main, low=2, high=12)  # no supplier: left out

    response = manager_client.post(ORDERS, {}, format="json")

    assert response.status_code == 201, response.json()
    orders = response.json()["purchase_orders"]
    got = {(o["supplier"], o["location"]): o for o in orders}
    assert set(got) == {(dairy.pk, main.pk), (dairy.pk, back_room.pk), (bakery.pk, main.pk)}
    assert all(o["status"] == "draft" and "replenishment" in o["notes"] for o in orders)
    assert all(o["created_by"] == "mike" for o in orders)
    lines = {(line["sku"], line["quantity"], line["unit_cost"])
             for line in got[(dairy.pk, main.pk)]["items"]}  # fmt: skip
    assert lines == {("MILK", 24, "0.80"), ("CREAM", 10, "2.00")}  # 19 in packs of 6: 24
    assert [(line["sku"], line["quantity"]) for line in got[(bakery.pk, main.pk)]["items"]] == [
        ("BREAD", 12)
    ]
    assert PurchaseOrder.objects.count() == 3

    again = manager_client.post(ORDERS, {}, format="json")

    assert again.status_code == 201
    assert again.json() == {"purchase_orders": []}
    assert PurchaseOrder.objects.count() == 3
    assert [row["sku"] for row in due(manager_client)] == ["LOOSE"]


def test_orders_for_one_supplier_or_location(manager_client, organization, main, back_room,
                                             dairy, bakery):  # fmt: skip
    milk = product(organization, "MILK", cost_price="1.00")
    bread = product(organization, "BREAD", cost_price="1.00")
    rule(organization, milk, main, low=1, high=5, supplier=dairy)
    rule(organization, milk, back_room, low=1, high=5, supplier=dairy)
    rule(organization, bread, main, low=1, high=5, supplier=bakery)

    first = manager_client.post(ORDERS, {"supplier": dairy.pk, "location": back_room.pk},
                                format="json").json()["purchase_orders"]  # fmt: skip
    second = manager_client.post(ORDERS, {"supplier": dairy.pk},
                                 format="json").json()["purchase_orders"]  # fmt: skip

    assert [(o["supplier"], o["location"]) for o in first] == [(dairy.pk, back_room.pk)]
    assert [(o["supplier"], o["location"]) for o in second] == [(dairy.pk, main.pk)]
    assert [row["sku"] for row in due(manager_client)] == ["BREAD"]


def test_the_service_orders_what_is_short_after_a_partial_delivery(organization, main, dairy):
    manager = UserFactory(organization=organization, role=Role.MANAGER)
    milk = product(organization, "MILK", cost_price="1.00")
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    (first,) = services.create_replenishment_orders(organization=organization, user=manager)
    assert first.items.get().quantity == 20
    PurchaseOrder.objects.filter(pk=first.pk).update(status="cancelled")

    (second,) = services.create_replenishment_orders(organization=organization, user=manager)

    assert second.items.get().quantity == 20
    assert services.create_replenishment_orders(organization=organization, user=manager) == []


def test_the_rows_are_the_serializers_answer(admin_client, sales_client, organization, main,
                                             dairy):  # fmt: skip
    from replenishment.selectors import replenishment_rows
    from replenishment.serializers import ReplenishmentRowSerializer

    milk = product(organization, "MILK", 3)
    sells(organization, milk, dairy, pack_size=10, minimum_order_quantity=24,
          unit_cost=Decimal("0.85"), supplier_sku="D-MILK")  # fmt: skip
    rule(organization, milk, main, low=5, high=20, supplier=dairy)
    rule(organization, product(organization, "LOOSE"), main, low=5, high=20)
    rows = replenishment_rows(organization_id=organization.pk, today=local_today(organization))

    for client, hide_costs in ((admin_client, False), (sales_client, True)):
        expected = ReplenishmentRowSerializer(rows, many=True,
                                              context={"hide_costs": hide_costs}).data  # fmt: skip
        assert due(client) == [dict(row) for row in expected]


@pytest.mark.parametrize("suppliers", [1, 10])
def test_the_drafts_take_a_constant_number_of_queries(
    manager_client, organization, main, back_room, suppliers, django_assert_max_num_queries
):
    # 2 drafts (one supplier, two locations) or 20 (ten suppliers), three lines each.
    for n in range(suppliers):
        supplier = SupplierFactory(organization=organization, name=f"Supplier {n:02d}")
        for m in range(3):
            made = product(organization, f"P{n:02d}-{m}", cost_price="1.00")
            sells(organization, made, supplier, pack_size=2)
            for place in (main, back_room):
                rule(organization, made, place, low=5, high=9, supplier=supplier)

    # The user and their permissions (4); in the service's savepoint (2): the organization's
    # lock, on order, the rules (3, and 4: a savepoint where hash joins are off for that
    # statement, set back after it); in the drafts' savepoints with their foreign keys checked
    # at once (6): the numbers (1, and 3 to make the counter at the first order), the orders
    # (1), their lines (1); the answer: the orders and their lines (2).
    with django_assert_max_num_queries(27):
        response = manager_client.post(ORDERS, {}, format="json")

    assert response.status_code == 201, response.json()
    orders = response.json()["purchase_orders"]
    assert len(orders) == 2 * suppliers
    assert [len(order["items"]) for order in orders] == [3] * (2 * suppliers)
    assert [order["reference"] for order in orders] == [
        f"PO-{n:05d}" for n in range(1, 2 * suppliers + 1)
    ]


def test_needs_reorder_is_in_the_products_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    parameters = {p["name"]: p for p in schema["paths"]["/api/products/"]["get"]["parameters"]}
    assert parameters["needs_reorder"]["schema"] == {"type": "boolean"}


def test_the_cached_alerts_move_on_with_what_is_on_order(admin_client, organization, main, dairy):
    milk = product(organization, "MILK", 1, cost_price="1.00", low_stock_threshold=5)

    def low():
        answer = admin_client.get("/api/products/alerts/").json()
        return [(row["sku"], row["on_order"]) for row in answer["low_stock"]]

    assert low() == [("MILK", 0)]  # cached from here on
    draft = order(admin_client, dairy, (milk, 4))
    assert low() == [("MILK", 4)]
    edited = admin_client.patch(f"/api/purchase-orders/{draft['id']}/", {"items": [
        {"product": milk.pk, "quantity": 6, "unit_cost": "1.00"}]}, format="json")  # fmt: skip
    assert edited.status_code == 200
    assert low() == [("MILK", 6)]
    assert admin_client.delete(f"/api/purchase-orders/{draft['id']}/").status_code == 204
    assert low() == [("MILK", 0)]
    rule(organization, milk, main, low=5, high=9, supplier=dairy)
    assert admin_client.post(ORDERS, {}, format="json").status_code == 201
    assert low() == [("MILK", 8)]


@pytest.mark.postgres
def test_the_due_list_leaves_the_planner_as_it_found_it(organization):
    with transaction.atomic(), connection.cursor() as cursor:
        low_rules(organization_id=organization.pk, today=datetime.date.today())
        cursor.execute("SHOW enable_hashjoin")
        assert cursor.fetchone()[0] == "on"
