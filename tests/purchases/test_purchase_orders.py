"""Purchase orders through the API: /api/purchase-orders/."""

from decimal import Decimal

import pytest
from django.db import DatabaseError

from inventory.models import Product
from purchases import services
from purchases.models import PurchaseOrder
from stock.models import StockMovement
from stock.services import books, default_location
from tests.factories import ProductFactory, SupplierFactory

URL = "/api/purchase-orders/"
MAX_QUERIES = 14  # auth, role permissions and the throttle (a cache table on SQLite) included
STATUSES = ["draft", "submitted", "received", "cancelled"]


@pytest.fixture
def supplier(organization):
    return SupplierFactory(organization=organization)


@pytest.fixture
def products(stocked, organization):
    return (
        stocked(quantity=1, organization=organization, sku="BOLT"),
        stocked(quantity=0, organization=organization, sku="NUT"),
    )


@pytest.fixture
def create(admin_client, supplier, products):
    """POST an order of 10 BOLT at 1.25 and 4 NUT at 0.10 (status and overrides optional)."""

    def make(client=admin_client, **overrides):
        body = {
            "supplier": supplier.pk,
            "expected_date": "2026-12-01",
            "notes": "rush",
            "items": [
                {"product": products[0].pk, "quantity": 10, "unit_cost": "1.25"},
                {"product": products[1].pk, "quantity": 4, "unit_cost": "0.10"},
            ],
            **overrides,
        }
        return client.post(URL, body, format="json")

    return make


def stock_of(*products):
    return [Product.objects.get(pk=p.pk).quantity for p in products]


@pytest.mark.django_db
class TestCreate:
    def test_draft_with_items_and_database_totals(self, create, products):
        response = create()
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["reference"] == "PO-00001"
        assert body["status"] == "draft"
        assert body["total_cost"] == "12.90"
        assert [(i["quantity"], i["unit_cost"], i["line_total"]) for i in body["items"]] == [
            (10, "1.25", "12.50"),
            (4, "0.10", "0.40"),
        ]
        assert body["created_by"] == "alice"
        assert body["received_at"] is None
        assert body["expected_date"] == "2026-12-01"
        assert stock_of(*products) == [1, 0]  # a draft moves no stock

    def test_numbers_follow_per_organization(
        self, create, other_admin_client, other_organization, admin_client
    ):
        assert [create().json()["reference"] for _ in range(3)] == [
            "PO-00001",
            "PO-00002",
            "PO-00003",
        ]
        theirs = SupplierFactory(organization=other_organization)
        product = ProductFactory(organization=other_organization)
        response = other_admin_client.post(
            URL,
            {
                "supplier": theirs.pk,
                "items": [{"product": product.pk, "quantity": 1, "unit_cost": "1.00"}],
            },
            format="json",
        )
        assert response.json()["reference"] == "PO-00001"
        # Max(number) + 1: deleting the latest draft hands its number to the next order (no gap).
        order_id = admin_client.get(URL).json()["results"][0]["id"]
        assert admin_client.delete(f"{URL}{order_id}/").status_code == 204
        assert create().json()["reference"] == "PO-00003"

    def test_created_as_received_adds_stock_with_one_in_movement_per_line(self, create, products):
        response = create(status="received")
        assert response.status_code == 201
        assert response.json()["received_at"] is not None
        assert stock_of(*products) == [11, 4]
        movements = StockMovement.objects.filter(source="purchase_order").order_by("id")
        assert [
            (m.movement_type, m.delta, m.reference, m.performed_by.username) for m in movements
        ] == [
            ("IN", 10, "PO-00001", "alice"),
            ("IN", 4, "PO-00001", "alice"),
        ]

    @pytest.mark.parametrize(
        "overrides",
        [
            {"items": []},
            {"items": None},
            {"items": "many"},
            {"items": [{"product": 1}]},
            {"supplier": None},
            {"supplier": "abc"},
            {"supplier": 10**30},
            {"status": "shipped"},
            {"status": None},
            {"expected_date": "next week"},
            {"notes": None},
        ],
    )
    def test_bad_input_is_400_and_stores_nothing(self, create, overrides):
        response = create(**overrides)
        assert response.status_code == 400
        assert not PurchaseOrder.objects.exists()

    @pytest.mark.parametrize(
        "item",
        [
            {"quantity": 0},
            {"quantity": -3},
            {"quantity": 2**31},
            {"quantity": "ten"},
            {"unit_cost": "-0.01"},
            {"unit_cost": "1.234"},
            {"unit_cost": "1e400"},
            {"unit_cost": "NaN"},
            {"unit_cost": None},
            {"product": None},
            {"product": "x"},
            {"product": 10**30},
        ],
    )
    def test_bad_item_is_400(self, create, products, item):
        line = {"product": products[0].pk, "quantity": 1, "unit_cost": "1.00", **item}
        response = create(items=[line])
        assert response.status_code == 400
        assert "items" in response.json()
        assert not PurchaseOrder.objects.exists()

    def test_another_organizations_supplier_or_product_is_400(
        self, create, other_organization, products
    ):
        theirs = SupplierFactory(organization=other_organization)
        assert create(supplier=theirs.pk).status_code == 400
        product = ProductFactory(organization=other_organization)
        items = [{"product": product.pk, "quantity": 1, "unit_cost": "1.00"}]
        assert create(items=items).status_code == 400
        assert not PurchaseOrder.objects.exists()

    def test_archived_product_and_product_with_variations_are_400(self, create, organization):
        archived = ProductFactory(organization=organization, is_archived=True)
        items = [{"product": archived.pk, "quantity": 1, "unit_cost": "1.00"}]
        assert create(items=items).status_code == 400
        parent = ProductFactory(organization=organization, has_variations=True)
        ProductFactory(organization=organization, parent=parent, sku="CAP-BLUE")
        items = [{"product": parent.pk, "quantity": 1, "unit_cost": "1.00"}]
        response = create(items=items)
        assert response.status_code == 400
        assert "CAP-BLUE" in str(response.json()["items"])

    def test_receiving_beyond_the_integer_range_is_400(self, create, products):
        items = [{"product": products[0].pk, "quantity": 2**31 - 1, "unit_cost": "0"}]
        assert create(items=items, status="received").status_code == 400
        assert not PurchaseOrder.objects.exists()
        assert stock_of(products[0]) == [1]


def move(client, order_id, status):
    return client.patch(f"{URL}{order_id}/", {"status": status}, format="json")


def order_in(create, admin_client, status):
    """An order brought to `status` through the API."""
    order_id = create().json()["id"]
    path = {"draft": [], "submitted": ["submitted"], "received": ["received"]}.get(
        status, ["cancelled"]
    )
    for step in path:
        assert move(admin_client, order_id, step).status_code == 200
    return order_id


# (from, to) -> expected answer; API.md's table, every pair.
TRANSITIONS = {
    ("draft", "draft"): 200,
    ("draft", "submitted"): 200,
    ("draft", "received"): 200,
    ("draft", "cancelled"): 200,
    ("submitted", "draft"): 409,
    ("submitted", "submitted"): 200,
    ("submitted", "received"): 200,
    ("submitted", "cancelled"): 200,
    ("received", "draft"): 409,
    ("received", "submitted"): 409,
    ("received", "received"): 409,
    ("received", "cancelled"): 409,
    ("cancelled", "draft"): 409,
    ("cancelled", "submitted"): 409,
    ("cancelled", "received"): 409,
    ("cancelled", "cancelled"): 409,
}


@pytest.mark.django_db
class TestStatus:
    @pytest.mark.parametrize(("start", "target"), list(TRANSITIONS))
    def test_every_status_move(self, create, admin_client, products, start, target):
        order_id = order_in(create, admin_client, start)
        stock_before = stock_of(*products)
        movements_before = StockMovement.objects.count()
        response = move(admin_client, order_id, target)
        assert response.status_code == TRANSITIONS[(start, target)], response.json()
        order = PurchaseOrder.objects.get(pk=order_id)
        if response.status_code == 409:
            assert "detail" in response.json()
            assert order.status == start
        else:
            assert order.status == target
            assert response.json()["status"] == target
        added = response.status_code == 200 and target == "received" and start != "received"
        expected = [q + d for q, d in zip(stock_before, [10, 4], strict=True)]
        assert stock_of(*products) == (expected if added else stock_before)
        assert StockMovement.objects.count() == movements_before + (2 if added else 0)
        assert (order.received_at is not None) == (order.status == "received")

    def test_receiving_twice_adds_stock_once(self, create, admin_client, products):
        order_id = create(status="submitted").json()["id"]
        assert move(admin_client, order_id, "received").status_code == 200
        assert move(admin_client, order_id, "received").status_code == 409
        assert stock_of(*products) == [11, 4]

    def test_a_failure_while_receiving_leaves_no_partial_change(
        self, create, admin_client, products, monkeypatch
    ):
        order = PurchaseOrder.objects.get(pk=create().json()["id"])
        real_insert = books.insert_movements

        def fail_on_last_line(movements):
            real_insert(movements[:-1])
            raise DatabaseError("injected failure on the last line")

        monkeypatch.setattr(books, "insert_movements", fail_on_last_line)
        with pytest.raises(DatabaseError):
            services.update_purchase_order(order=order, user=None, status="received")
        order.refresh_from_db()
        assert (order.status, order.received_at) == ("draft", None)
        assert stock_of(*products) == [1, 0]
        assert not StockMovement.objects.filter(source="purchase_order").exists()


@pytest.mark.django_db
class TestEditAndDelete:
    def test_items_replaced_while_draft(self, create, admin_client, products):
        order_id = create().json()["id"]
        response = admin_client.patch(
            f"{URL}{order_id}/",
            {"items": [{"product": products[1].pk, "quantity": 3, "unit_cost": "2.00"}]},
            format="json",
        )
        assert response.status_code == 200
        assert [i["quantity"] for i in response.json()["items"]] == [3]
        assert response.json()["total_cost"] == "6.00"

    def test_items_and_receive_in_one_patch(self, create, admin_client, products):
        order_id = create().json()["id"]
        response = admin_client.patch(
            f"{URL}{order_id}/",
            {
                "items": [{"product": products[1].pk, "quantity": 3, "unit_cost": "2.00"}],
                "status": "received",
            },
            format="json",
        )
        assert response.status_code == 200
        assert stock_of(*products) == [1, 3]

    def test_incomplete_line_in_patch_is_400(self, create, admin_client, products):
        order_id = create().json()["id"]
        response = admin_client.patch(
            f"{URL}{order_id}/", {"items": [{"product": products[1].pk}]}, format="json"
        )
        assert response.status_code == 400
        assert len(PurchaseOrder.objects.get(pk=order_id).items.all()) == 2

    @pytest.mark.parametrize("start", ["submitted", "received", "cancelled"])
    def test_items_and_supplier_only_while_draft(
        self, create, admin_client, products, start, supplier
    ):
        order_id = order_in(create, admin_client, start)
        items = [{"product": products[1].pk, "quantity": 3, "unit_cost": "2.00"}]
        response = admin_client.patch(f"{URL}{order_id}/", {"items": items}, format="json")
        assert response.status_code == 409
        response = admin_client.patch(f"{URL}{order_id}/", {"supplier": supplier.pk}, format="json")
        assert response.status_code == 409
        assert PurchaseOrder.objects.get(pk=order_id).items.count() == 2

    @pytest.mark.parametrize(
        ("start", "code"),
        [("draft", 200), ("submitted", 200), ("received", 409), ("cancelled", 409)],
    )
    def test_notes_and_date_until_received_or_cancelled(self, create, admin_client, start, code):
        order_id = order_in(create, admin_client, start)
        for body in ({"notes": "call first"}, {"expected_date": "2027-01-02"}):
            response = admin_client.patch(f"{URL}{order_id}/", body, format="json")
            assert response.status_code == code
        order = PurchaseOrder.objects.get(pk=order_id)
        assert (order.notes == "call first") == (code == 200)

    @pytest.mark.parametrize(
        ("start", "code"),
        [("draft", 204), ("submitted", 409), ("received", 409), ("cancelled", 409)],
    )
    def test_delete_only_while_draft(self, create, admin_client, start, code):
        order_id = order_in(create, admin_client, start)
        assert admin_client.delete(f"{URL}{order_id}/").status_code == code
        assert PurchaseOrder.objects.filter(pk=order_id).exists() == (code == 409)

    def test_put_is_405(self, create, admin_client):
        order_id = create().json()["id"]
        assert admin_client.put(f"{URL}{order_id}/", {}, format="json").status_code == 405


@pytest.mark.django_db
class TestRolesAndTenancy:
    def test_sales_gets_403_whatever_the_id(self, sales_client, create):
        order_id = create().json()["id"]
        assert sales_client.get(URL).status_code == 403
        assert sales_client.get(f"{URL}{order_id}/").status_code == 403
        assert sales_client.get(f"{URL}999999/").status_code == 403
        assert sales_client.patch(f"{URL}{order_id}/", {"status": "received"}).status_code == 403
        assert sales_client.delete(f"{URL}{order_id}/").status_code == 403
        assert sales_client.post(URL, {}, format="json").status_code == 403
        assert PurchaseOrder.objects.get(pk=order_id).status == "draft"

    def test_manager_may_order_and_receive(self, create, manager_client, products):
        response = create(client=manager_client, status="received")
        assert response.status_code == 201
        assert response.json()["created_by"] == "mike"

    def test_another_organizations_order_is_404(self, create, other_admin_client):
        order_id = create().json()["id"]
        assert other_admin_client.get(f"{URL}{order_id}/").status_code == 404
        assert move(other_admin_client, order_id, "received").status_code == 404
        assert other_admin_client.delete(f"{URL}{order_id}/").status_code == 404
        assert other_admin_client.get(URL).json()["count"] == 0
        assert PurchaseOrder.objects.get(pk=order_id).status == "draft"


@pytest.mark.django_db
class TestList:
    def test_filters_and_newest_first(self, create, admin_client, supplier):
        first = create().json()["id"]
        second = create(status="submitted").json()["id"]
        results = admin_client.get(URL).json()["results"]
        assert [r["id"] for r in results] == [second, first]
        assert [r["id"] for r in admin_client.get(URL, {"status": "draft"}).json()["results"]] == [
            first
        ]
        assert admin_client.get(URL, {"supplier": supplier.pk}).json()["count"] == 2
        assert admin_client.get(URL, {"status": "lost"}).status_code == 400
        assert admin_client.get(URL, {"supplier": "x"}).status_code == 400

    def test_query_count_does_not_grow_with_orders(
        self, create, admin_client, django_assert_max_num_queries
    ):
        create()
        with django_assert_max_num_queries(MAX_QUERIES):
            admin_client.get(URL)
        for _ in range(10):
            create()
        with django_assert_max_num_queries(MAX_QUERIES):
            results = admin_client.get(URL).json()["results"]
        assert len(results) == 11
        assert {r["total_cost"] for r in results} == {"12.90"}

    def test_detail_query_count(self, create, admin_client, django_assert_max_num_queries):
        order_id = create().json()["id"]
        with django_assert_max_num_queries(MAX_QUERIES):
            assert admin_client.get(f"{URL}{order_id}/").json()["total_cost"] == "12.90"

    def test_order_without_lines_totals_zero(self, supplier, organization):
        from purchases.selectors import purchase_orders_with_totals

        order = PurchaseOrder.objects.create(
            organization=organization,
            number=1,
            supplier=supplier,
            location=default_location(organization_id=organization.pk),
        )
        assert purchase_orders_with_totals().get(pk=order.pk).total_cost == Decimal("0.00")


@pytest.mark.django_db
def test_receiving_a_product_archived_since_ordering_is_400_and_changes_nothing(
    create, admin_client, products
):
    order = create().json()
    assert admin_client.delete(f"/api/products/{products[1].pk}/").status_code == 204
    assert Product.objects.get(pk=products[1].pk).is_archived  # it has history: archived

    response = admin_client.patch(f"{URL}{order['id']}/", {"status": "received"}, format="json")

    assert response.status_code == 400
    assert "archived" in str(response.json())
    assert stock_of(*products) == [1, 0]
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "draft"
