import datetime
from decimal import Decimal
from functools import partial

import pytest
from django.core import mail

from alerts.models import StockAlert
from core.dates import local_today
from core.errors import NotFound
from inventory import services
from inventory.models import Product
from inventory.services import ProductChanges
from stock.models import StockMovement
from stock.services import default_location, record_movement
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

URL = "/api/products/"
MAX_QUERIES = 12  # auth, permissions and throttle (a cache table on SQLite), then count + page
FIELDS = {
    "id",
    "sku",
    "barcode",
    "name",
    "description",
    "category",
    "category_name",
    "supplier",
    "price",
    "cost_price",
    "average_cost",
    "quantity",
    "allocated",
    "available",
    "low_stock_threshold",
    "on_order",
    "track_lots",
    "last_counted_at",
    "expiration_date",
    "expired_quantity",
    "is_low_stock",
    "is_expired",
    "stock_value",
    "parent",
    "attributes",
    "created_at",
    "updated_at",
}


@pytest.fixture
def category(organization):
    return CategoryFactory(organization=organization, name="Drinks")


@pytest.fixture
def supplier(organization):
    return SupplierFactory(organization=organization, name="Acme")


@pytest.fixture
def product(stocked, organization, category):
    return stocked(
        quantity=5, organization=organization, category=category, sku="COLA", name="Cola"
    )


def results(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def skus(response):
    return [p["sku"] for p in results(response)]


# --- create ---------------------------------------------------------------------------------


def test_create_with_every_field(manager_client, manager_user, category, supplier):
    payload = {
        "sku": "TEA-1",
        "name": "Green tea",
        "description": "Loose leaf",
        "category": category.pk,
        "supplier": supplier.pk,
        "price": "4.50",
        "cost_price": "2.10",
        "quantity": 12,
        "low_stock_threshold": 3,
        "expiration_date": "2030-01-31",
    }
    response = manager_client.post(URL, payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert {k: body[k] for k in payload} == payload
    assert body["category_name"] == "Drinks"
    assert body["stock_value"] == "54.00"
    assert body["average_cost"] == "2.1000"  # the opening stock, valued at cost_price
    assert body["is_low_stock"] is False
    assert body["is_expired"] is False
    assert body["parent"] is None
    assert body["attributes"] == {}
    (movement,) = StockMovement.objects.filter(product_id=body["id"])
    assert (movement.movement_type, movement.quantity, movement.delta) == ("IN", 12, 12)
    assert movement.source == "initial"
    assert movement.unit_cost == Decimal("2.1")
    assert movement.performed_by == manager_user


def test_create_minimal_generates_sku_and_records_no_movement(admin_client, organization):
    response = admin_client.post(URL, {"name": "Bread", "price": "1.20"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"] == f"SKU-{body['id']:06d}"
    assert body["quantity"] == 0
    assert body["low_stock_threshold"] == 0
    assert body["is_low_stock"] is True  # 0 <= 0
    assert body["cost_price"] is None
    assert body["average_cost"] == "0.0000"
    assert body["category"] is None and body["category_name"] is None
    assert not StockMovement.objects.exists()
    assert Product.objects.get(pk=body["id"]).organization == organization


def test_blank_sku_is_generated(admin_client):
    response = admin_client.post(URL, {"name": "Bread", "price": "1", "sku": "  "})
    assert response.status_code == 201
    assert response.json()["sku"].startswith("SKU-")


def test_generated_sku_avoids_a_sku_taken_by_hand(admin_client, organization):
    next_id = (Product.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    ProductFactory(organization=organization, sku=f"SKU-{next_id + 1:06d}")
    first = admin_client.post(URL, {"name": "A", "price": "1"}).json()
    second = admin_client.post(URL, {"name": "B", "price": "1"}).json()
    assert first["sku"] != second["sku"]
    assert Product.objects.filter(organization=organization).count() == 3


def test_duplicate_sku_is_400_on_sku(admin_client, product):
    response = admin_client.post(URL, {"sku": "COLA", "name": "Other", "price": "1"})
    assert response.status_code == 400
    assert "sku" in response.json()
    assert Product.objects.count() == 1


def test_same_sku_in_another_organization(other_admin_client, product):
    response = other_admin_client.post(URL, {"sku": "COLA", "name": "Cola", "price": "1"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "change, field",
    [
        ({"price": None}, "price"),
        ({"price": "-0.01"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "1e40"}, "price"),
        ({"price": "12345678901.00"}, "price"),
        ({"cost_price": "-1"}, "cost_price"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 2**31}, "quantity"),
        ({"quantity": 10**30}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"low_stock_threshold": -1}, "low_stock_threshold"),
        ({"low_stock_threshold": 2**40}, "low_stock_threshold"),
        ({"expiration_date": "31/01/2030"}, "expiration_date"),
        ({"expiration_date": "2030-02-30"}, "expiration_date"),
        ({"expiration_date": 20300101}, "expiration_date"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": None}, "sku"),
        ({"category": "abc"}, "category"),
        ({"category": 10**30}, "category"),
        ({"category": 987654}, "category"),
        ({"category": [1]}, "category"),
        ({"supplier": "1.5"}, "supplier"),
        ({"supplier": 987654}, "supplier"),
        ({"description": None}, "description"),
    ],
)
def test_invalid_input_is_400_and_stores_nothing(admin_client, change, field):
    payload = {"name": "Bread", "price": "1.20", **change}
    response = admin_client.post(URL, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_name_is_required(admin_client):
    response = admin_client.post(URL, {"price": "1"})
    assert response.status_code == 400
    assert "name" in response.json()


def test_price_is_required(admin_client):
    response = admin_client.post(URL, {"name": "Bread"})
    assert response.status_code == 400
    assert "price" in response.json()


def test_non_object_body_is_400(admin_client):
    response = admin_client.post(URL, ["name"], format="json")
    assert response.status_code == 400


def test_read_only_fields_are_ignored(admin_client, product):
    response = admin_client.post(
        URL,
        {
            "name": "X",
            "price": "1",
            "parent": product.pk,
            "attributes": {"size": "L"},
            "stock_value": "999.00",
            "is_low_stock": False,
            "id": 1,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["parent"] is None and body["attributes"] == {}
    assert body["stock_value"] == "0.00"


def test_referencing_another_organizations_category_or_supplier_is_400(
    admin_client, other_organization
):
    foreign_category = CategoryFactory(organization=other_organization)
    foreign_supplier = SupplierFactory(organization=other_organization)
    response = admin_client.post(
        URL,
        {
            "name": "X",
            "price": "1",
            "category": foreign_category.pk,
            "supplier": foreign_supplier.pk,
        },
    )
    assert response.status_code == 400
    assert {"category", "supplier"} <= set(response.json())
    assert not Product.objects.exists()


def test_referencing_another_organizations_ids_on_update_is_400(
    admin_client, product, other_organization
):
    foreign_category = CategoryFactory(organization=other_organization)
    response = admin_client.patch(f"{URL}{product.pk}/", {"category": foreign_category.pk})
    assert response.status_code == 400
    assert "category" in response.json()
    product.refresh_from_db()
    assert product.category.organization_id == product.organization_id


# --- computed fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quantity, threshold, low", [(0, 0, True), (3, 3, True), (4, 3, False), (2, 3, True)]
)
def test_is_low_stock(admin_client, stocked, organization, quantity, threshold, low):
    product = stocked(quantity=quantity, organization=organization, low_stock_threshold=threshold)
    assert admin_client.get(f"{URL}{product.pk}/").json()["is_low_stock"] is low


@pytest.mark.parametrize("days, expired", [(-1, True), (0, True), (1, False), (None, False)])
def test_is_expired_against_utc_today(admin_client, stocked, organization, days, expired):
    date = None if days is None else local_today(None) + datetime.timedelta(days=days)
    product = stocked(quantity=4, organization=organization, expiration_date=date)
    body = admin_client.get(f"{URL}{product.pk}/").json()
    assert (body["is_expired"], body["expired_quantity"]) == (expired, 4 if expired else 0)


def test_a_product_without_stock_is_not_expired(admin_client, organization):
    """Expired means units on hand that are expired: none on hand, nothing expired."""
    yesterday = local_today(None) - datetime.timedelta(days=1)
    product = ProductFactory(organization=organization, expiration_date=yesterday)
    body = admin_client.get(f"{URL}{product.pk}/").json()
    assert (body["is_expired"], body["expired_quantity"]) == (False, 0)


def test_stock_value_is_quantity_times_price(admin_client, stocked, organization):
    product = stocked(quantity=3, organization=organization, price="19.99")
    body = admin_client.get(f"{URL}{product.pk}/").json()
    assert body["stock_value"] == "59.97"
    assert body["price"] == "19.99"


# --- update ---------------------------------------------------------------------------------


def test_patch_quantity_is_one_adjust_movement(manager_client, product, manager_user):
    response = manager_client.patch(f"{URL}{product.pk}/", {"quantity": 2})
    assert response.status_code == 200, response.json()
    assert response.json()["quantity"] == 2
    movement = StockMovement.objects.filter(product=product).order_by("-id").first()
    assert (movement.movement_type, movement.quantity, movement.delta) == ("ADJUST", 2, -3)
    assert movement.source == "product_edit"
    assert movement.performed_by == manager_user
    product.refresh_from_db()
    assert product.quantity == 2
    assert sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True)) == 2


def test_unchanged_quantity_records_no_movement(manager_client, product):
    response = manager_client.patch(f"{URL}{product.pk}/", {"quantity": 5, "name": "Cola Zero"})
    assert response.status_code == 200
    assert response.json()["name"] == "Cola Zero"
    assert StockMovement.objects.filter(product=product).count() == 1


def test_edit_without_quantity_keeps_stock_moved_meanwhile(manager_client, product, manager_user):
    """A catalogue edit never writes quantity, so a movement that happened is not undone."""
    stale = Product.objects.get(pk=product.pk)
    record_movement(product=stale, movement_type="IN", quantity=10, user=manager_user)
    response = manager_client.patch(f"{URL}{product.pk}/", {"price": "2.00"})
    assert response.json()["quantity"] == 15
    product.refresh_from_db()
    assert product.quantity == 15


def test_put_replaces_fields(admin_client, product, supplier):
    response = admin_client.put(
        f"{URL}{product.pk}/",
        {"sku": "COLA-2", "name": "Cola 2", "price": "3.00", "supplier": supplier.pk},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["sku"], body["name"], body["price"], body["supplier"]) == (
        "COLA-2",
        "Cola 2",
        "3.00",
        supplier.pk,
    )
    assert body["quantity"] == 5  # not sent: unchanged


def test_put_requires_name_and_price(admin_client, product):
    response = admin_client.put(f"{URL}{product.pk}/", {"sku": "X"})
    assert response.status_code == 400
    assert {"name", "price"} <= set(response.json())


def test_patch_sku_to_a_taken_one_is_400(admin_client, product, organization):
    other = ProductFactory(organization=organization, sku="TAKEN")
    response = admin_client.patch(f"{URL}{product.pk}/", {"sku": "TAKEN"})
    assert response.status_code == 400
    assert "sku" in response.json()
    other.refresh_from_db()
    product.refresh_from_db()
    assert product.sku == "COLA"


def test_patch_invalid_changes_nothing(admin_client, product):
    response = admin_client.patch(f"{URL}{product.pk}/", {"quantity": -4, "name": "New"})
    assert response.status_code == 400
    product.refresh_from_db()
    assert (product.quantity, product.name) == (5, "Cola")


def test_clear_category(admin_client, product):
    response = admin_client.patch(f"{URL}{product.pk}/", {"category": None})
    assert response.status_code == 200
    assert response.json()["category"] is None


# --- delete ---------------------------------------------------------------------------------


def test_only_admin_deletes(manager_client, sales_client, product):
    assert manager_client.delete(f"{URL}{product.pk}/").status_code == 403
    assert sales_client.delete(f"{URL}{product.pk}/").status_code == 403
    assert manager_client.delete(f"{URL}999999/").status_code == 403
    assert Product.objects.filter(pk=product.pk, is_archived=False).exists()


def test_delete_without_history_removes(admin_client, organization):
    product = ProductFactory(organization=organization)
    assert admin_client.delete(f"{URL}{product.pk}/").status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_delete_of_a_product_holding_stock_is_409_naming_the_quantity(admin_client, product):
    response = admin_client.delete(f"{URL}{product.pk}/")

    assert response.status_code == 409
    assert "still holds 5 in stock" in response.json()["detail"]
    product.refresh_from_db()
    assert not product.is_archived
    assert admin_client.get("/api/dashboard/").json()["total_quantity"] == 5


def write_off(client, product, quantity):
    body = {"product": product.pk, "movement_type": "OUT", "quantity": quantity}
    assert client.post("/api/stock/movements/", body).status_code == 201


def test_delete_with_history_archives(admin_client, product):
    write_off(admin_client, product, 5)  # the ledger says where the stock went
    response = admin_client.delete(f"{URL}{product.pk}/")
    assert response.status_code == 204
    product.refresh_from_db()
    assert product.is_archived
    assert product.sku == "COLA"
    assert StockMovement.objects.filter(product=product).count() == 2
    assert admin_client.get(URL).json()["count"] == 0
    assert admin_client.get(f"{URL}{product.pk}/").status_code == 404
    assert admin_client.delete(f"{URL}{product.pk}/").status_code == 404
    # its SKU stays taken
    response = admin_client.post(URL, {"sku": "COLA", "name": "Cola", "price": "1"})
    assert response.status_code == 400


def test_delete_with_order_lines_archives(admin_client, organization, admin_user):
    from sales.models import SalesOrder, SalesOrderItem

    product = ProductFactory(organization=organization)
    order = SalesOrder.objects.create(
        organization=organization,
        number=1,
        location=default_location(organization_id=organization.pk),
    )
    SalesOrderItem.objects.create(order=order, product=product, quantity=1, unit_price="1.00")
    assert admin_client.delete(f"{URL}{product.pk}/").status_code == 204
    product.refresh_from_db()
    assert product.is_archived


def test_editing_or_deleting_a_product_deleted_meanwhile_is_404(admin_client, organization):
    product = ProductFactory(organization=organization)
    stale = Product.objects.get(pk=product.pk)
    assert admin_client.delete(f"{URL}{product.pk}/").status_code == 204

    with pytest.raises(NotFound):
        services.update_product(product=stale, changes=ProductChanges(name="Gone"))
    with pytest.raises(NotFound):
        services.delete_product(product=stale)


# --- low-stock alerts of catalogue edits ----------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_celery):
    """Run what a request leaves for after its commit (the alerts' task), as a real commit."""
    return partial(django_capture_on_commit_callbacks, execute=True)


def went_low_emails():
    return [m for m in mail.outbox if "just went low" in m.subject]


def test_a_threshold_edit_that_makes_a_product_low_notifies_once(
    manager_client, manager_user, stocked, organization, committed
):
    tea = stocked(quantity=3, organization=organization, sku="TEA", low_stock_threshold=2)

    with committed():
        response = manager_client.patch(f"{URL}{tea.pk}/", {"low_stock_threshold": 10})
    assert response.json()["is_low_stock"] is True
    (email,) = went_low_emails()
    assert email.to == [manager_user.email]
    assert "TEA |" in email.body

    with committed():  # still low after a stock-in: no second "went low"
        response = manager_client.post(
            "/api/stock/movements/", {"product": tea.pk, "movement_type": "IN", "quantity": 2}
        )
    assert response.status_code == 201
    assert len(went_low_emails()) == 1

    with committed():  # lowered below the stock: recovered, its alert closes
        manager_client.patch(f"{URL}{tea.pk}/", {"low_stock_threshold": 4})
    assert StockAlert.objects.get(product=tea).closed_at is not None
    with committed():  # and the next crossing notifies again
        manager_client.patch(f"{URL}{tea.pk}/", {"low_stock_threshold": 5})
    assert len(went_low_emails()) == 2


def test_a_product_created_low_is_known_low_but_has_not_crossed(
    manager_client, manager_user, committed
):
    """Low from the start is not a crossing "from above": no email now (the daily digest
    lists it), and a later stock-in that leaves it low does not send "went low" either."""
    with committed():
        manager_client.post(URL, {"sku": "NEW", "name": "New", "price": "1", "quantity": 9})
        created = manager_client.post(
            URL, {"sku": "LOW", "name": "Low", "price": "1", "low_stock_threshold": 3}
        ).json()
        manager_client.post(
            URL,
            {"sku": "LOW2", "name": "Low 2", "price": "1", "quantity": 2, "low_stock_threshold": 3},
        )
    assert went_low_emails() == []
    assert not StockAlert.objects.exists()  # no crossing to owe
    with committed():
        manager_client.post(
            "/api/stock/movements/",
            {"product": created["id"], "movement_type": "IN", "quantity": 1},
        )
    assert went_low_emails() == []


# --- roles and tenancy ----------------------------------------------------------------------


def test_sales_reads_only(sales_client, product):
    assert sales_client.get(URL).json()["count"] == 1
    assert sales_client.get(f"{URL}{product.pk}/").status_code == 200
    assert sales_client.post(URL, {"name": "X", "price": "1"}).status_code == 403
    assert sales_client.patch(f"{URL}{product.pk}/", {"name": "X"}).status_code == 403
    assert sales_client.put(f"{URL}{product.pk}/", {"name": "X", "price": "1"}).status_code == 403
    assert sales_client.patch(f"{URL}424242/", {"name": "X"}).status_code == 403


def test_anonymous_is_401(api_client, product):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(f"{URL}{product.pk}/").status_code == 401
    assert api_client.post(URL, {"name": "X", "price": "1"}).status_code == 401


def test_other_organization_gets_404(other_admin_client, product):
    assert other_admin_client.get(URL).json()["count"] == 0
    assert other_admin_client.get(f"{URL}{product.pk}/").status_code == 404
    assert other_admin_client.patch(f"{URL}{product.pk}/", {"quantity": 0}).status_code == 404
    assert (
        other_admin_client.put(f"{URL}{product.pk}/", {"name": "X", "price": "1"}).status_code
        == 404
    )
    assert other_admin_client.delete(f"{URL}{product.pk}/").status_code == 404
    product.refresh_from_db()
    assert (product.quantity, product.is_archived) == (5, False)


def test_superuser_without_organization_cannot_create(db):
    from tests.factories import UserFactory
    from tests.support.api import client_for

    root = UserFactory(organization=None, is_superuser=True, role="")
    response = client_for(root).post(URL, {"name": "X", "price": "1"})
    assert response.status_code == 403


# --- list: filters, search, ordering --------------------------------------------------------


@pytest.fixture
def shelf(stocked, organization, category, supplier):
    """Four products: a low one, an expired one, an out-of-stock one and a plain one."""
    today = local_today(None)
    return {
        "low": stocked(
            quantity=2, organization=organization, sku="LOW", name="Apple", price="1.00",
            low_stock_threshold=5, category=category,
        ),
        "expired": stocked(
            quantity=10, organization=organization, sku="OLD", name="Milk", price="2.50",
            expiration_date=today - datetime.timedelta(days=1), supplier=supplier,
            description="semi-skimmed",
        ),
        "empty": stocked(
            quantity=0, organization=organization, sku="NONE", name="Bread", price="3.00",
        ),
        "plain": stocked(
            quantity=8, organization=organization, sku="PLAIN", name="Cheese", price="9.99",
            low_stock_threshold=1, expiration_date=today + datetime.timedelta(days=30),
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["LOW", "NONE", "PLAIN", "OLD"]),  # default ordering: name
        ({"low_stock": "true"}, ["LOW", "NONE"]),
        ({"low_stock": "false"}, ["PLAIN", "OLD"]),
        ({"expired": "true"}, ["OLD"]),
        ({"expired": "false"}, ["LOW", "NONE", "PLAIN"]),
        ({"in_stock": "true"}, ["LOW", "PLAIN", "OLD"]),
        ({"in_stock": "false"}, ["NONE"]),
        ({"min_price": "2.50"}, ["NONE", "PLAIN", "OLD"]),
        ({"max_price": "2.50"}, ["LOW", "OLD"]),
        ({"min_price": "2", "max_price": "3"}, ["NONE", "OLD"]),
        ({"search": "PLA"}, ["PLAIN"]),
        ({"search": "chee"}, ["PLAIN"]),
        ({"search": "SKIMMED"}, ["OLD"]),
        ({"search": "nothing-like-it"}, []),
        ({"parent__isnull": "true"}, ["LOW", "NONE", "PLAIN", "OLD"]),
        ({"parent__isnull": "false"}, []),
        ({"ordering": "sku"}, ["LOW", "NONE", "OLD", "PLAIN"]),
        ({"ordering": "-price"}, ["PLAIN", "NONE", "OLD", "LOW"]),
        ({"ordering": "quantity"}, ["NONE", "LOW", "PLAIN", "OLD"]),
        ({"ordering": "-name"}, ["OLD", "PLAIN", "NONE", "LOW"]),
        ({"ordering": "created_at"}, ["LOW", "OLD", "NONE", "PLAIN"]),
        ({"ordering": "-updated_at"}, ["PLAIN", "NONE", "OLD", "LOW"]),
        ({"ordering": "cost_price"}, ["LOW", "NONE", "PLAIN", "OLD"]),  # unknown: ignored
        ({"ordering": "organization"}, ["LOW", "NONE", "PLAIN", "OLD"]),
    ],
)
def test_filters_search_and_ordering(admin_client, shelf, params, expected):
    assert skus(admin_client.get(URL, params)) == expected


def test_filter_by_category_and_supplier(admin_client, shelf, category, supplier):
    assert skus(admin_client.get(URL, {"category": category.pk})) == ["LOW"]
    assert skus(admin_client.get(URL, {"supplier": supplier.pk})) == ["OLD"]


def test_filter_by_another_organizations_category_finds_nothing(
    admin_client, shelf, other_organization
):
    foreign = CategoryFactory(organization=other_organization)
    assert skus(admin_client.get(URL, {"category": foreign.pk})) == []


def test_ordering_ties_break_on_id(admin_client, organization):
    made = [ProductFactory(organization=organization, name="Same", price="1") for _ in range(5)]
    response = admin_client.get(URL, {"ordering": "-price", "page_size": 2})
    first = [p["id"] for p in results(response)]
    second = [
        p["id"]
        for p in results(admin_client.get(URL, {"ordering": "-price", "page_size": 2, "page": 2}))
    ]
    # Ties break on the id, in the direction of the ordering (so its index serves it).
    assert first + second == [p.pk for p in reversed(made)][:4]
    ascending = results(admin_client.get(URL, {"ordering": "price", "page_size": 4}))
    assert [p["id"] for p in ascending] == [p.pk for p in made[:4]]


@pytest.mark.parametrize(
    "params",
    [
        {"low_stock": "maybe"},
        {"expired": "yes please"},
        {"in_stock": "2"},
        {"parent__isnull": "perhaps"},
        {"min_price": "cheap"},
        {"max_price": "-1"},
        {"max_price": "1e400"},
        {"min_price": "NaN"},
        {"category": "abc"},
        {"category": "1.5"},
        {"category": "99999999999999999999999"},
        {"supplier": "-3"},
        {"parent": "x"},
    ],
)
def test_malformed_filter_values_are_400(admin_client, shelf, params):
    response = admin_client.get(URL, params)
    assert response.status_code == 400, response.content
    assert set(params) & set(response.json())


def test_a_page_that_is_not_a_number_is_404_as_in_drf(admin_client, shelf):
    response = admin_client.get(URL, {"page": "abc"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_page_size_is_capped_at_500(admin_client, shelf):
    response = admin_client.get(URL, {"page_size": 100000})
    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_list_query_count_does_not_grow(admin_client, organization, django_assert_max_num_queries):
    categories = CategoryFactory.create_batch(5, organization=organization)
    for i in range(60):
        ProductFactory(organization=organization, category=categories[i % 5])
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(URL, {"page_size": 60})
    assert len(results(response)) == 60
    assert all(p["category_name"] for p in results(response))


def test_detail_query_count(admin_client, product, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES - 1):
        assert admin_client.get(f"{URL}{product.pk}/").json()["category_name"] == "Drinks"


# --- alerts ---------------------------------------------------------------------------------

ALERTS = f"{URL}alerts/"


def test_alerts_most_urgent_first_with_totals(admin_client, stocked, organization):
    today = local_today(None)
    stocked(quantity=4, organization=organization, sku="SHORT-1", low_stock_threshold=5)
    stocked(quantity=0, organization=organization, sku="SHORT-10", low_stock_threshold=10)
    stocked(quantity=3, organization=organization, sku="SHORT-0", low_stock_threshold=3)
    stocked(quantity=9, organization=organization, sku="FINE", low_stock_threshold=3)
    for days, sku in [(3, "EXP-3"), (10, "EXP-10"), (0, "EXP-0")]:
        stocked(
            quantity=50, organization=organization, sku=sku,
            expiration_date=today - datetime.timedelta(days=days),
        )  # fmt: skip
    stocked(quantity=50, organization=organization, sku="FRESH",
            expiration_date=today + datetime.timedelta(days=1))  # fmt: skip
    body = admin_client.get(ALERTS).json()
    assert [p["sku"] for p in body["low_stock"]] == ["SHORT-10", "SHORT-1", "SHORT-0"]
    assert [p["sku"] for p in body["expired"]] == ["EXP-10", "EXP-3", "EXP-0"]
    assert (body["low_stock_count"], body["expired_count"]) == (3, 3)
    assert set(body["low_stock"][0]) == FIELDS

    body = admin_client.get(ALERTS, {"limit": 1}).json()
    assert [p["sku"] for p in body["low_stock"]] == ["SHORT-10"]
    assert [p["sku"] for p in body["expired"]] == ["EXP-10"]
    assert (body["low_stock_count"], body["expired_count"]) == (3, 3)


def test_alerts_skip_archived_and_other_organizations(
    admin_client, other_admin_client, stocked, organization
):
    stocked(quantity=0, organization=organization, sku="GONE", is_archived=True)
    stocked(quantity=0, organization=organization, sku="LOW")
    body = admin_client.get(ALERTS).json()
    assert [p["sku"] for p in body["low_stock"]] == ["LOW"]
    body = other_admin_client.get(ALERTS).json()
    assert body == {
        "low_stock": [], "expired": [], "expiring_soon": [],
        "low_stock_count": 0, "expired_count": 0, "expiring_soon_count": 0,
    }  # fmt: skip


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5", "99999999999999999999"])
def test_alerts_limit_is_validated(admin_client, limit):
    response = admin_client.get(ALERTS, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


def test_alerts_readable_by_sales_not_anonymous(sales_client, api_client, product):
    assert sales_client.get(ALERTS).status_code == 200
    assert api_client.get(ALERTS).status_code == 401


def test_alerts_query_count(admin_client, stocked, organization, django_assert_max_num_queries):
    category = CategoryFactory(organization=organization)
    soon = local_today(None) + datetime.timedelta(days=2)
    for _ in range(30):
        stocked(quantity=1, organization=organization, category=category,
                low_stock_threshold=5, expiration_date=local_today(None))  # fmt: skip
        stocked(quantity=9, organization=organization, category=category, expiration_date=soon)
    with django_assert_max_num_queries(MAX_QUERIES + 3):
        body = admin_client.get(ALERTS).json()
    assert [len(body[key]) for key in ("low_stock", "expired", "expiring_soon")] == [30, 30, 30]


def test_money_values_are_decimal_strings(admin_client, stocked, organization):
    product = stocked(quantity=7, organization=organization, price=Decimal("0.10"),
                      cost_price=Decimal("0.05"))  # fmt: skip
    body = admin_client.get(f"{URL}{product.pk}/").json()
    assert (body["price"], body["cost_price"], body["stock_value"]) == ("0.10", "0.05", "0.70")
