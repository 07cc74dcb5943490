from functools import partial

import pytest
from django.core import mail

from alerts.models import StockAlert
from inventory.models import Product
from stock.models import StockMovement
from stock.services import NotStockKeeping, record_movement
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

MAX_QUERIES = 12  # auth, permissions and throttle (a cache table on SQLite), then count + page


@pytest.fixture
def shirt(organization):
    return ProductFactory(
        organization=organization,
        sku="TEE",
        name="T-shirt",
        price="15.00",
        category=CategoryFactory(organization=organization, name="Clothes"),
        supplier=SupplierFactory(organization=organization, name="Looms"),
    )


def nested(product):
    return f"/api/products/{product.pk}/variations/"


def add(client, product, **payload):
    return client.post(nested(product), payload)


def test_add_variation_with_defaults(manager_client, shirt, manager_user):
    response = add(manager_client, shirt, attributes={"colour": "Red", "size": "L"}, quantity=4)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["parent"] == shirt.pk
    assert body["attributes"] == {"colour": "Red", "size": "L"}
    assert body["name"] == "T-shirt Red L"
    assert body["price"] == "15.00"
    assert body["sku"] == "TEE-RED-L"
    assert body["category"] == shirt.category_id
    assert body["category_name"] == "Clothes"
    assert body["supplier"] == shirt.supplier_id
    assert body["quantity"] == 4
    assert body["stock_value"] == "60.00"
    (movement,) = StockMovement.objects.filter(product_id=body["id"])
    assert (movement.source, movement.delta) == ("initial", 4)
    shirt.refresh_from_db()
    assert shirt.has_variations


def test_add_variation_with_own_sku_name_price(admin_client, shirt):
    response = add(
        admin_client,
        shirt,
        attributes={"size": "XL"},
        sku="TEE-XL-SPECIAL",
        name="Big tee",
        price="17.50",
        low_stock_threshold=2,
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["sku"], body["name"], body["price"]) == ("TEE-XL-SPECIAL", "Big tee", "17.50")
    assert body["low_stock_threshold"] == 2
    assert body["is_low_stock"] is True


def test_generated_skus_stay_unique(admin_client, shirt, organization):
    ProductFactory(organization=organization, sku="TEE-M")
    response = add(admin_client, shirt, attributes={"size": "M"})
    assert response.status_code == 201
    assert response.json()["sku"] not in ("TEE-M", "")
    assert response.json()["sku"].startswith("TEE-M-")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "attributes"),
        ({"attributes": {}}, "attributes"),
        ({"attributes": None}, "attributes"),
        ({"attributes": "red"}, "attributes"),
        ({"attributes": ["red"]}, "attributes"),
        ({"attributes": {"size": None}}, "attributes"),
        ({"attributes": {"size": {"nested": "x"}}}, "attributes"),
        ({"attributes": {"": "x"}}, "attributes"),
        ({"attributes": {f"k{i}": "v" for i in range(21)}}, "attributes"),
        ({"attributes": {"size": "x" * 101}}, "attributes"),
        ({"attributes": {"size": "L"}, "quantity": -1}, "quantity"),
        ({"attributes": {"size": "L"}, "quantity": 2**31}, "quantity"),
        ({"attributes": {"size": "L"}, "price": "-1"}, "price"),
        ({"attributes": {"size": "L"}, "low_stock_threshold": "x"}, "low_stock_threshold"),
        ({"attributes": {"size": "L"}, "sku": "TEE"}, "sku"),
    ],
)
def test_invalid_variation_is_400(admin_client, shirt, payload, field):
    response = admin_client.post(nested(shirt), payload)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Product.objects.count() == 1
    shirt.refresh_from_db()
    assert not shirt.has_variations


def test_duplicate_attributes_are_400(admin_client, shirt):
    assert add(admin_client, shirt, attributes={"size": "L"}).status_code == 201
    response = add(admin_client, shirt, attributes={"size": "L"})
    assert response.status_code == 400
    assert "attributes" in response.json()


def test_attributes_in_another_order_are_the_same_attributes(admin_client, shirt):
    assert add(admin_client, shirt, attributes={"colour": "Red", "size": "L"}).status_code == 201
    response = add(admin_client, shirt, attributes={"size": "L", "colour": "Red"})
    assert response.status_code == 400
    assert "attributes" in response.json()


def test_editing_a_variation_to_a_siblings_attributes_is_400(admin_client, shirt):
    add(admin_client, shirt, attributes={"colour": "Red", "size": "L"})
    small = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    response = admin_client.patch(
        f"/api/variations/{small}/", {"attributes": {"size": "L", "colour": "Red"}}
    )
    assert response.status_code == 400
    assert "attributes" in response.json()
    assert Product.objects.get(pk=small).attributes == {"size": "S"}
    # its own attributes, unchanged, are not a duplicate
    response = admin_client.patch(f"/api/variations/{small}/", {"attributes": {"size": "S"}})
    assert response.status_code == 200


def test_adding_a_variation_to_a_product_holding_stock_is_400(admin_client, stocked, organization):
    product = stocked(quantity=3, organization=organization)
    response = add(admin_client, product, attributes={"size": "L"})
    assert response.status_code == 400
    assert "3" in str(response.json())
    product.refresh_from_db()
    assert not product.has_variations
    assert Product.objects.count() == 1


def test_a_variation_has_no_variations(admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "L"}).json()["id"]
    response = admin_client.post(
        f"/api/products/{variation_id}/variations/", {"attributes": {"x": "y"}}
    )
    assert response.status_code == 400


def test_product_with_variations_holds_no_stock(admin_client, shirt, admin_user):
    add(admin_client, shirt, attributes={"size": "L"})
    response = admin_client.patch(f"/api/products/{shirt.pk}/", {"quantity": 5})
    assert response.status_code == 400
    assert "quantity" in response.json()
    shirt.refresh_from_db()
    assert shirt.quantity == 0
    with pytest.raises(NotStockKeeping):
        record_movement(product=shirt, movement_type="IN", quantity=1, user=admin_user)
    # other edits of the parent still work
    response = admin_client.patch(f"/api/products/{shirt.pk}/", {"name": "Tee", "quantity": 0})
    assert response.status_code == 200


def test_parent_is_neither_low_nor_counted_in_stock_filters(admin_client, shirt):
    add(admin_client, shirt, attributes={"size": "L"}, quantity=0)
    body = admin_client.get(f"/api/products/{shirt.pk}/").json()
    assert body["is_low_stock"] is False
    low = admin_client.get("/api/products/", {"low_stock": "true"}).json()["results"]
    assert [p["sku"] for p in low] == ["TEE-L"]
    alerts = admin_client.get("/api/products/alerts/").json()
    assert [p["sku"] for p in alerts["low_stock"]] == ["TEE-L"]


def test_product_list_holds_variations_and_filters_by_parent(admin_client, shirt, organization):
    ProductFactory(organization=organization, sku="MUG", name="Mug")
    add(admin_client, shirt, attributes={"size": "S"})
    add(admin_client, shirt, attributes={"size": "M"})

    def skus(params):
        response = admin_client.get("/api/products/", params)
        return sorted(p["sku"] for p in response.json()["results"])

    assert skus({}) == ["MUG", "TEE", "TEE-M", "TEE-S"]
    assert skus({"parent": shirt.pk}) == ["TEE-M", "TEE-S"]
    assert skus({"parent__isnull": "true"}) == ["MUG", "TEE"]
    assert skus({"parent__isnull": "false"}) == ["TEE-M", "TEE-S"]


def test_nested_list(sales_client, admin_client, shirt):
    add(admin_client, shirt, attributes={"size": "S"})
    add(admin_client, shirt, attributes={"size": "M"})
    response = sales_client.get(nested(shirt))
    assert response.status_code == 200
    assert [v["sku"] for v in response.json()["results"]] == ["TEE-M", "TEE-S"]
    assert response.json()["count"] == 2


def test_variations_endpoint_and_product_filter(admin_client, shirt, organization):
    other = ProductFactory(organization=organization, sku="CAP", name="Cap")
    add(admin_client, shirt, attributes={"size": "S"})
    add(admin_client, other, attributes={"colour": "Blue"})
    all_skus = [v["sku"] for v in admin_client.get("/api/variations/").json()["results"]]
    assert sorted(all_skus) == ["CAP-BLUE", "TEE-S"]
    response = admin_client.get("/api/variations/", {"product": other.pk})
    assert [v["sku"] for v in response.json()["results"]] == ["CAP-BLUE"]
    assert admin_client.get("/api/variations/", {"product": "x"}).status_code == 400
    # a plain product is not a variation
    assert admin_client.get(f"/api/variations/{other.pk}/").status_code == 404


def test_patch_variation(manager_client, admin_client, shirt, manager_user):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}, quantity=2).json()["id"]
    url = f"/api/variations/{variation_id}/"
    response = manager_client.patch(
        url, {"quantity": 7, "price": "14.00", "attributes": {"size": "Small"}, "name": "Tee S"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["quantity"], body["price"], body["name"]) == (7, "14.00", "Tee S")
    assert body["attributes"] == {"size": "Small"}
    movement = StockMovement.objects.filter(product_id=variation_id).order_by("-id").first()
    assert (movement.movement_type, movement.source, movement.delta) == (
        "ADJUST",
        "product_edit",
        5,
    )
    assert movement.performed_by == manager_user


def test_variation_keeps_its_parents_category_and_supplier(admin_client, shirt, organization):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    new_category = CategoryFactory(organization=organization, name="Sale")
    # read-only on the variation endpoints
    admin_client.patch(f"/api/variations/{variation_id}/", {"category": new_category.pk})
    assert Product.objects.get(pk=variation_id).category_id == shirt.category_id
    # a different one through the product endpoint is refused
    response = admin_client.patch(f"/api/products/{variation_id}/", {"category": new_category.pk})
    assert response.status_code == 400
    # changing the parent's carries over to its variations
    response = admin_client.patch(f"/api/products/{shirt.pk}/", {"category": new_category.pk})
    assert response.status_code == 200
    body = admin_client.get(f"/api/variations/{variation_id}/").json()
    assert (body["category"], body["category_name"]) == (new_category.pk, "Sale")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a request leaves for after its commit (the alerts' task), in-process."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield partial(django_capture_on_commit_callbacks, execute=True)
    app.conf.task_always_eager = previous


def test_a_threshold_edit_that_makes_a_variation_low_notifies(
    manager_client, manager_user, admin_client, shirt, committed
):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}, quantity=3).json()["id"]

    with committed():
        response = manager_client.patch(
            f"/api/variations/{variation_id}/", {"low_stock_threshold": 3}
        )
    assert response.json()["is_low_stock"] is True
    (email,) = mail.outbox
    assert "just went low" in email.subject
    assert "TEE-S |" in email.body
    assert StockAlert.objects.get().product_id == variation_id


def test_a_product_that_gets_variations_is_no_longer_low_itself(
    admin_client, manager_user, organization, stocked, committed
):
    mug = stocked(quantity=3, organization=organization, sku="MUG", low_stock_threshold=2)
    with committed():  # 3 -> 0: went low
        record_movement(product=mug, movement_type="OUT", quantity=3, user=manager_user)
    assert StockAlert.objects.get(product=mug).closed_at is None

    with committed():
        add(admin_client, mug, attributes={"colour": "Blue"}, quantity=5)

    assert StockAlert.objects.get(product=mug).closed_at is not None


def test_put_and_post_are_not_offered_on_variations(admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    assert admin_client.put(f"/api/variations/{variation_id}/", {}).status_code == 405
    assert admin_client.post("/api/variations/", {"attributes": {"a": "b"}}).status_code == 405


def test_delete_variation_without_history_clears_has_variations(admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    assert admin_client.delete(f"/api/variations/{variation_id}/").status_code == 204
    assert not Product.objects.filter(pk=variation_id).exists()
    shirt.refresh_from_db()
    assert not shirt.has_variations


def write_off(client, product_id, quantity):
    body = {"product": product_id, "movement_type": "OUT", "quantity": quantity}
    assert client.post("/api/stock/movements/", body).status_code == 201


def test_delete_variation_with_history_archives_it(admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}, quantity=1).json()["id"]
    assert admin_client.delete(f"/api/variations/{variation_id}/").status_code == 409  # stock
    write_off(admin_client, variation_id, 1)
    assert admin_client.delete(f"/api/variations/{variation_id}/").status_code == 204
    assert Product.objects.get(pk=variation_id).is_archived
    shirt.refresh_from_db()
    assert not shirt.has_variations
    assert admin_client.get("/api/variations/").json()["count"] == 0


def test_delete_parent_takes_its_variations(admin_client, shirt):
    kept = add(admin_client, shirt, attributes={"size": "S"}, quantity=1).json()["id"]
    removed = add(admin_client, shirt, attributes={"size": "M"}).json()["id"]
    refused = admin_client.delete(f"/api/products/{shirt.pk}/")
    assert refused.status_code == 409  # a variation still holds stock: it is named
    assert "still holds 1 in stock" in refused.json()["detail"]
    write_off(admin_client, kept, 1)
    assert admin_client.delete(f"/api/products/{shirt.pk}/").status_code == 204
    assert not Product.objects.filter(pk=removed).exists()
    assert Product.objects.get(pk=kept).is_archived
    assert Product.objects.get(pk=shirt.pk).is_archived  # an archived variation refers to it
    assert admin_client.get("/api/products/").json()["count"] == 0


def test_roles(sales_client, manager_client, admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    url = f"/api/variations/{variation_id}/"
    assert sales_client.get(url).status_code == 200
    assert sales_client.get("/api/variations/").status_code == 200
    assert add(sales_client, shirt, attributes={"size": "M"}).status_code == 403
    assert sales_client.patch(url, {"name": "x"}).status_code == 403
    assert sales_client.delete(url).status_code == 403
    assert manager_client.delete(url).status_code == 403
    assert manager_client.patch(url, {"name": "x"}).status_code == 200


def test_other_organization(other_admin_client, admin_client, shirt):
    variation_id = add(admin_client, shirt, attributes={"size": "S"}).json()["id"]
    url = f"/api/variations/{variation_id}/"
    assert other_admin_client.get(nested(shirt)).status_code == 404
    assert add(other_admin_client, shirt, attributes={"size": "M"}).status_code == 404
    assert other_admin_client.get(url).status_code == 404
    assert other_admin_client.patch(url, {"quantity": 9}).status_code == 404
    assert other_admin_client.delete(url).status_code == 404
    assert other_admin_client.get("/api/variations/").json()["count"] == 0
    assert Product.objects.get(pk=variation_id).quantity == 0


def test_query_counts(admin_client, shirt, django_assert_max_num_queries):
    for i in range(25):
        add(admin_client, shirt, attributes={"n": str(i)})
    with django_assert_max_num_queries(MAX_QUERIES + 1):
        response = admin_client.get(nested(shirt), {"page_size": 25})
    assert len(response.json()["results"]) == 25
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get("/api/variations/", {"page_size": 25})
    assert len(response.json()["results"]) == 25
    variation_id = response.json()["results"][0]["id"]
    with django_assert_max_num_queries(MAX_QUERIES - 1):
        assert admin_client.get(f"/api/variations/{variation_id}/").status_code == 200
