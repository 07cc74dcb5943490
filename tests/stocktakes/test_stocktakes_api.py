"""API.md "Stocktakes": counts that post their differences, blind counts, never a lost sale."""

import decimal

import pytest
from django.core.management import call_command

from inventory.models import Product
from orders.services import OrderItem
from sales.services import create_sales_order, update_sales_order
from stock import services as stock_services
from stock.models import StockMovement
from stocktakes.models import Stocktake
from tests.factories import CategoryFactory, ProductFactory
from tests.support.stock import receive_lot

URL = "/api/stocktakes/"
FIELDS = {
    "id",
    "reference",
    "location",
    "status",
    "blind",
    "note",
    "line_count",
    "counted_count",
    "created_by",
    "created_at",
    "completed_at",
    "variance_quantity",
    "variance_value",
}
LINE_FIELDS = {
    "id",
    "product",
    "sku",
    "product_name",
    "lot_code",
    "expected_quantity",
    "counted_quantity",
    "difference",
    "counted_by",
    "counted_at",
    "moved_since_count",
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def tea(stocked, organization):
    return stocked(quantity=10, organization=organization, sku="TEA-1", cost_price="2.00")


@pytest.fixture
def jam(stocked, organization):
    return stocked(quantity=5, organization=organization, sku="JAM-1", cost_price="3.00")


def open_stocktake(client, location, **body):
    return client.post(URL, {"location": location.pk, **body}, format="json")


def count(client, stocktake_id, *lines):
    body = {"lines": [dict(line) for line in lines]}
    return client.post(f"{URL}{stocktake_id}/counts/", body, format="json")


def lines(client, stocktake_id, **params):
    answer = client.get(f"{URL}{stocktake_id}/lines/", params)
    assert answer.status_code == 200, answer.json()
    return {row["sku"] + (f"/{row['lot_code']}" if row["lot_code"] else ""): row
            for row in answer.json()["results"]}  # fmt: skip


def sell(organization, user, product, quantity):
    order = create_sales_order(
        organization=organization, user=user, items=[OrderItem(product, quantity)]
    )
    update_sales_order(order=order, user=user, status="fulfilled")


def test_opening_lists_every_product_with_stock_there(admin_client, main, tea, jam, organization):
    ProductFactory(organization=organization, sku="EMPTY-1")  # no stock: no line
    answer = open_stocktake(admin_client, main, note="Weekly")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) == FIELDS
    assert body["reference"] == "ST-00001"
    assert body["status"] == "open"
    assert body["line_count"] == 2
    assert body["counted_count"] == 0
    assert body["created_by"] == "alice"
    assert body["variance_quantity"] == 0
    rows = lines(admin_client, body["id"])
    assert list(rows) == ["JAM-1", "TEA-1"]  # SKU order
    assert set(rows["TEA-1"]) == LINE_FIELDS
    assert rows["TEA-1"]["expected_quantity"] == 10  # the books now
    assert rows["TEA-1"]["counted_quantity"] is None
    assert rows["TEA-1"]["difference"] is None


def test_a_category_or_named_products_limit_the_lines(admin_client, main, stocked, organization):
    drinks = CategoryFactory(organization=organization)
    stocked(quantity=1, organization=organization, sku="A", category=drinks)
    b = stocked(quantity=1, organization=organization, sku="B")
    c = stocked(quantity=1, organization=organization, sku="C")

    by_category = open_stocktake(admin_client, main, category=drinks.pk).json()
    assert list(lines(admin_client, by_category["id"])) == ["A"]
    admin_client.post(f"{URL}{by_category['id']}/cancel/")
    named = open_stocktake(admin_client, main, products=[b.pk, c.pk]).json()
    assert list(lines(admin_client, named["id"])) == ["B", "C"]


def test_one_open_stocktake_per_location(admin_client, main, back_room, tea):
    assert open_stocktake(admin_client, main).status_code == 201
    second = open_stocktake(admin_client, main)
    assert second.status_code == 409
    assert "ST-00001" in second.json()["detail"]
    assert open_stocktake(admin_client, back_room).status_code == 201  # another location
    assert Stocktake.objects.count() == 2
    assert Stocktake.objects.get(location=back_room).number == 2  # the 409 used no number


def test_counting_records_the_books_now_and_completing_posts_the_difference(
    admin_client, main, tea, jam
):
    stocktake = open_stocktake(admin_client, main).json()
    answer = count(
        admin_client,
        stocktake["id"],
        {"product": tea.pk, "counted_quantity": 8},
        {"product": jam.pk, "counted_quantity": 5},
    )
    assert answer.status_code == 200, answer.json()
    counted = {row["sku"]: row for row in answer.json()}
    assert counted["TEA-1"]["expected_quantity"] == 10
    assert counted["TEA-1"]["difference"] == -2
    assert counted["TEA-1"]["counted_by"] == "alice"
    assert counted["JAM-1"]["difference"] == 0

    done = admin_client.post(f"{URL}{stocktake['id']}/complete/")

    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed"
    assert done.json()["completed_at"]
    assert done.json()["variance_quantity"] == -2
    assert done.json()["variance_value"] == "-4.00"  # 2 units at the average cost 2.0000
    (adjust,) = StockMovement.objects.filter(source="stocktake")
    assert (adjust.product_id, adjust.movement_type, adjust.delta) == (tea.pk, "ADJUST", -2)
    assert adjust.quantity == 8  # what is there after it
    assert adjust.reference == "ST-00001"
    tea.refresh_from_db()
    jam.refresh_from_db()
    assert tea.quantity == 8
    assert tea.average_cost == decimal.Decimal("2.0000")  # a count moves quantity, not cost
    assert tea.last_counted_at is not None
    assert jam.last_counted_at is not None  # counted, no difference: counted all the same
    product = admin_client.get(f"/api/products/{tea.pk}/").json()
    assert product["last_counted_at"] is not None


def test_a_sale_between_the_count_and_the_completion_is_not_lost(
    admin_client, main, tea, organization, admin_user
):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 9})  # 1 missing
    sell(organization, admin_user, tea, 3)  # rung up after the count

    rows = lines(admin_client, stocktake["id"])
    assert rows["TEA-1"]["moved_since_count"] is True
    assert rows["TEA-1"]["expected_quantity"] == 10  # what the books held at the count
    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    tea.refresh_from_db()
    assert tea.quantity == 10 - 3 - 1  # the sale stays; only the difference is applied


def test_counting_again_replaces_the_count_and_its_expected_quantity(
    admin_client, main, tea, organization, admin_user
):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 9})
    sell(organization, admin_user, tea, 2)
    again = count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 8})

    (row,) = again.json()
    assert (row["expected_quantity"], row["counted_quantity"], row["difference"]) == (8, 8, 0)
    assert row["moved_since_count"] is False
    admin_client.post(f"{URL}{stocktake['id']}/complete/")
    assert not StockMovement.objects.filter(source="stocktake").exists()
    assert Product.objects.get(pk=tea.pk).quantity == 8


def test_uncounted_lines_change_nothing(admin_client, main, tea, jam):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 12})
    assert set(lines(admin_client, stocktake["id"], counted="true")) == {"TEA-1"}
    assert set(lines(admin_client, stocktake["id"], counted="false")) == {"JAM-1"}

    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    assert Product.objects.get(pk=jam.pk).quantity == 5
    assert Product.objects.get(pk=jam.pk).last_counted_at is None
    assert Product.objects.get(pk=tea.pk).quantity == 12


def test_counting_a_product_without_a_line_adds_one(admin_client, main, tea, organization):
    found = ProductFactory(organization=organization, sku="FOUND-1", cost_price="1.50")
    stock_services.record_initial_stock(product=found, quantity=0, user=None)
    stocktake = open_stocktake(admin_client, main).json()

    answer = count(admin_client, stocktake["id"], {"product": found.pk, "counted_quantity": 4})

    assert answer.status_code == 200, answer.json()
    assert answer.json()[0]["expected_quantity"] == 0
    assert answer.json()[0]["difference"] == 4
    assert admin_client.get(f"{URL}{stocktake['id']}/").json()["line_count"] == 2
    admin_client.post(f"{URL}{stocktake['id']}/complete/")
    found.refresh_from_db()
    assert found.quantity == 4
    assert found.average_cost == decimal.Decimal("1.5000")


def test_a_difference_below_what_is_reserved_is_refused_naming_the_line(
    admin_client, main, tea, jam, organization, admin_user
):
    stocktake = open_stocktake(admin_client, main).json()
    count(
        admin_client,
        stocktake["id"],
        {"product": tea.pk, "counted_quantity": 2},
        {"product": jam.pk, "counted_quantity": 7},
    )
    order = create_sales_order(
        organization=organization, user=admin_user, items=[OrderItem(tea, 6)]
    )
    update_sales_order(order=order, user=admin_user, status="confirmed")  # 6 reserved

    answer = admin_client.post(f"{URL}{stocktake['id']}/complete/")

    assert answer.status_code == 400
    (message,) = answer.json()["lines"]
    assert "TEA-1" in message and "6 reserved" in message
    assert Stocktake.objects.get().status == "open"  # all or nothing
    assert Product.objects.get(pk=jam.pk).quantity == 5
    assert not StockMovement.objects.filter(source="stocktake").exists()


def test_a_difference_below_zero_is_refused(admin_client, main, tea, organization, admin_user):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 0})  # -10
    stock_services.record_movement(product=tea, movement_type="OUT", quantity=5, user=None)

    answer = admin_client.post(f"{URL}{stocktake['id']}/complete/")

    assert answer.status_code == 400
    assert "TEA-1" in answer.json()["lines"][0]
    assert Product.objects.get(pk=tea.pk).quantity == 5


def test_completing_twice_or_counting_after_is_a_conflict(admin_client, main, tea):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 9})
    assert admin_client.post(f"{URL}{stocktake['id']}/complete/").status_code == 200

    assert admin_client.post(f"{URL}{stocktake['id']}/complete/").status_code == 409
    assert admin_client.post(f"{URL}{stocktake['id']}/cancel/").status_code == 409
    late = count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 1})
    assert late.status_code == 409
    assert StockMovement.objects.filter(source="stocktake").count() == 1


def test_cancelling_moves_nothing_and_frees_the_location(admin_client, main, tea):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 1})

    answer = admin_client.post(f"{URL}{stocktake['id']}/cancel/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert Product.objects.get(pk=tea.pk).quantity == 10
    assert Product.objects.get(pk=tea.pk).last_counted_at is None
    assert open_stocktake(admin_client, main).status_code == 201


def test_lot_tracked_stock_is_counted_per_lot(admin_client, main, organization):
    milk = ProductFactory(organization=organization, sku="MILK-1", track_lots=True)
    receive_lot(milk, "A", 4)
    receive_lot(milk, "B", 6)
    stocktake = open_stocktake(admin_client, main).json()
    assert list(lines(admin_client, stocktake["id"])) == ["MILK-1/A", "MILK-1/B"]

    no_lot = count(admin_client, stocktake["id"], {"product": milk.pk, "counted_quantity": 1})
    assert no_lot.status_code == 400
    assert "lot" in no_lot.json()["lines"][0]
    answer = count(
        admin_client,
        stocktake["id"],
        {"product": milk.pk, "lot_code": "a", "counted_quantity": 3},
        {"product": milk.pk, "lot_code": "B", "counted_quantity": 7},
    )
    assert answer.status_code == 200, answer.json()
    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    from stock.models import Lot

    assert dict(Lot.objects.filter(product=milk).values_list("code", "quantity")) == {
        "A": 3,
        "B": 7,
    }
    assert Product.objects.get(pk=milk.pk).quantity == 10


def test_bad_counts_are_400s_naming_the_lines_and_change_nothing(
    admin_client, main, tea, other_organization
):
    foreign = ProductFactory(organization=other_organization)
    stocktake = open_stocktake(admin_client, main).json()
    answer = count(
        admin_client,
        stocktake["id"],
        {"product": tea.pk, "counted_quantity": 3},
        {"product": foreign.pk, "counted_quantity": 1},
        {"product": tea.pk, "counted_quantity": 4},
        {"product": tea.pk, "lot_code": "X", "counted_quantity": 4},
    )
    assert answer.status_code == 400
    messages = answer.json()["lines"]
    assert messages[0].startswith("Line 2:") and "does not exist" in messages[0]
    assert messages[1].startswith("Line 3:") and "twice" in messages[1]
    assert "does not track lots" in messages[2]
    assert lines(admin_client, stocktake["id"])["TEA-1"]["counted_quantity"] is None
    for body in ({"lines": []}, {"lines": [{"product": tea.pk, "counted_quantity": -1}]}, {}):
        bad = admin_client.post(f"{URL}{stocktake['id']}/counts/", body, format="json")
        assert bad.status_code == 400


def test_blind_counts_hide_the_books_from_sales_until_completed(
    admin_client, sales_client, main, tea
):
    stocktake = open_stocktake(admin_client, main, blind=True).json()
    answer = count(sales_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 7})
    assert answer.status_code == 200, answer.json()
    assert answer.json()[0]["expected_quantity"] is None
    assert answer.json()[0]["difference"] is None
    assert lines(sales_client, stocktake["id"])["TEA-1"]["expected_quantity"] is None
    shown = sales_client.get(f"{URL}{stocktake['id']}/").json()
    assert shown["variance_quantity"] is None
    # the manager side sees the books
    assert lines(admin_client, stocktake["id"])["TEA-1"]["difference"] == -3

    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    after = lines(sales_client, stocktake["id"])["TEA-1"]
    assert (after["expected_quantity"], after["difference"]) == (10, -3)
    assert sales_client.get(f"{URL}{stocktake['id']}/").json()["variance_quantity"] == -3


def test_a_count_that_is_not_blind_shows_sales_the_books(admin_client, sales_client, main, tea):
    stocktake = open_stocktake(admin_client, main).json()
    answer = count(sales_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 7})
    assert answer.json()[0]["difference"] == -3


def test_roles(sales_client, manager_client, admin_client, main, tea):
    assert open_stocktake(sales_client, main).status_code == 403
    stocktake = open_stocktake(manager_client, main).json()
    assert sales_client.get(URL).status_code == 200
    assert sales_client.post(f"{URL}{stocktake['id']}/complete/").status_code == 403
    assert sales_client.post(f"{URL}{stocktake['id']}/cancel/").status_code == 403
    assert manager_client.post(f"{URL}{stocktake['id']}/complete/").status_code == 200
    assert admin_client.put(f"{URL}{stocktake['id']}/", {}).status_code == 405
    assert admin_client.delete(f"{URL}{stocktake['id']}/").status_code == 405


def test_another_organizations_stocktake_is_a_404(
    admin_client, other_admin_client, main, tea, other_organization
):
    stocktake = open_stocktake(admin_client, main).json()
    path = f"{URL}{stocktake['id']}/"
    assert other_admin_client.get(path).status_code == 404
    assert other_admin_client.get(f"{path}lines/").status_code == 404
    line = {"product": tea.pk, "counted_quantity": 1}
    assert count(other_admin_client, stocktake["id"], line).status_code == 404
    assert other_admin_client.post(f"{path}complete/").status_code == 404
    assert other_admin_client.post(f"{path}cancel/").status_code == 404
    assert other_admin_client.get(URL).json()["count"] == 0
    # nor can one open a stocktake at another organization's location
    assert open_stocktake(other_admin_client, main).status_code == 400
    assert Stocktake.objects.get().status == "open"


def test_filters_and_query_counts(
    admin_client, main, back_room, tea, django_assert_max_num_queries
):
    first = open_stocktake(admin_client, main).json()
    admin_client.post(f"{URL}{first['id']}/cancel/")
    open_stocktake(admin_client, main)
    open_stocktake(admin_client, back_room)
    with django_assert_max_num_queries(8):
        everything = admin_client.get(URL).json()
    assert everything["count"] == 3
    assert admin_client.get(URL, {"status": "open"}).json()["count"] == 2
    assert admin_client.get(URL, {"location": back_room.pk}).json()["count"] == 1
    assert admin_client.get(URL, {"status": "maybe"}).status_code == 400
    assert admin_client.get(URL, {"location": "x"}).status_code == 400
    assert admin_client.get(f"{URL}{first['id']}/lines/", {"counted": "maybe"}).status_code == 400


def test_the_count_sheet_reads_in_constant_queries(
    admin_client, main, stocked, organization, django_assert_max_num_queries
):
    for n in range(30):
        stocked(quantity=n + 1, organization=organization, sku=f"P-{n:02d}")
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], *({"product": p, "counted_quantity": 1}
          for p in Product.objects.values_list("pk", flat=True)[:10]))  # fmt: skip
    with django_assert_max_num_queries(8):
        page = admin_client.get(f"{URL}{stocktake['id']}/lines/", {"page_size": 100})
    assert page.json()["count"] == 30


def test_suggestions_rank_never_counted_then_oldest_count_then_value(
    admin_client, main, stocked, organization, other_admin_client
):
    cheap = stocked(quantity=1, organization=organization, sku="CHEAP", price="1.00")
    dear = stocked(quantity=2, organization=organization, sku="DEAR", price="50.00")
    counted = stocked(quantity=100, organization=organization, sku="COUNTED", price="9.00")
    stocktake = open_stocktake(admin_client, main, products=[counted.pk]).json()
    count(admin_client, stocktake["id"], {"product": counted.pk, "counted_quantity": 100})
    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    answer = admin_client.get(f"{URL}suggestions/", {"location": main.pk})

    assert answer.status_code == 200
    rows = answer.json()
    assert [row["sku"] for row in rows] == ["DEAR", "CHEAP", "COUNTED"]
    assert rows[0] == {
        "product": dear.pk,
        "sku": "DEAR",
        "product_name": dear.name,
        "quantity": 2,
        "stock_value": "100.00",
        "last_counted_at": None,
    }
    assert rows[2]["last_counted_at"] is not None
    suggest = f"{URL}suggestions/"
    assert len(admin_client.get(suggest, {"location": main.pk, "limit": 1}).json()) == 1
    assert admin_client.get(suggest, {"location": main.pk, "limit": 501}).status_code == 400
    assert admin_client.get(f"{URL}suggestions/").status_code == 400
    assert other_admin_client.get(f"{URL}suggestions/", {"location": main.pk}).status_code == 400
    assert cheap.pk


def test_counted_before_filters_products(clock, admin_client, main, tea, jam):
    stocktake = open_stocktake(admin_client, main, products=[tea.pk]).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 10})
    admin_client.post(f"{URL}{stocktake['id']}/complete/")

    def skus(day):
        answer = admin_client.get("/api/products/", {"counted_before": day})
        assert answer.status_code == 200, answer.json()
        return {row["sku"] for row in answer.json()["results"]}

    assert skus("2026-11-21") == {"JAM-1"}  # counted today: not before today
    assert skus("2026-11-22") == {"JAM-1", "TEA-1"}
    assert admin_client.get("/api/products/", {"counted_before": "soon"}).status_code == 400


def test_the_ledger_check_holds_after_a_stocktake(admin_client, main, tea, jam):
    stocktake = open_stocktake(admin_client, main).json()
    count(admin_client, stocktake["id"], {"product": tea.pk, "counted_quantity": 13},
          {"product": jam.pk, "counted_quantity": 1})  # fmt: skip
    admin_client.post(f"{URL}{stocktake['id']}/complete/")
    call_command("check_stock_ledger")
