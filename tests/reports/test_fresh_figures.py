"""The dashboard and the alerts are cached (core.cache.cached_version), and never stale: every
change they count moves their version on before the changing request answers, so the next
read shows it. Each test reads once (caching), changes one thing through the API, reads again."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from core.dates import local_today
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db
DASHBOARD = "/api/dashboard/"
ALERTS = "/api/products/alerts/"


@pytest.fixture
def shop(organization, stocked):
    drinks = CategoryFactory(organization=organization, name="Drinks")
    cola = stocked(10, organization=organization, sku="COLA", price="2.00", cost_price="1.00",
                   category=drinks, low_stock_threshold=3)  # fmt: skip
    return {"drinks": drinks, "cola": cola}


def drinks_row(body) -> dict:
    return next(row for row in body["categories"] if row["name"] in ("Drinks", "Soft drinks"))


def test_a_sale_shows_on_the_next_dashboard(admin_client, shop):
    assert admin_client.get(DASHBOARD).json()["total_quantity"] == 10

    sale = {"items": [{"product": shop["cola"].pk, "quantity": 4}], "status": "fulfilled"}
    assert admin_client.post("/api/sales-orders/", sale, format="json").status_code == 201

    body = admin_client.get(DASHBOARD).json()
    assert (body["total_quantity"], body["total_inventory_value"]) == (6, "12.00")
    assert body["total_cost_value"] == "6.00"


def test_a_cached_dashboard_reads_no_catalogue(admin_client, shop, django_assert_max_num_queries):
    first = admin_client.get(DASHBOARD).json()
    with django_assert_max_num_queries(1):  # at most the user, when not cached yet
        again = admin_client.get(DASHBOARD).json()
    assert again == first


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda c, s: c.post("/api/stock/movements/", {"product": s["cola"].pk,
                             "movement_type": "IN", "quantity": 5, "unit_cost": "2.50"}),
         lambda b: (b["total_quantity"], b["total_cost_value"]) == (15, "22.50")),
        (lambda c, s: c.patch(f"/api/products/{s['cola'].pk}/", {"price": "3.00"}),
         lambda b: b["total_inventory_value"] == "30.00"),
        (lambda c, s: c.patch(f"/api/products/{s['cola'].pk}/", {"low_stock_threshold": 10}),
         lambda b: b["low_stock_count"] == 1),
        (lambda c, s: c.patch(f"/api/categories/{s['drinks'].pk}/", {"name": "Soft drinks"}),
         lambda b: drinks_row(b)["name"] == "Soft drinks"),
        (lambda c, s: c.post("/api/categories/", {"name": "Bakery"}),
         lambda b: "Bakery" in [row["name"] for row in b["categories"]]),
        (lambda c, s: c.post("/api/products/", {"name": "Bun", "price": "0.50", "quantity": 2}),
         lambda b: (b["total_products"], b["total_quantity"]) == (2, 12)),
        (lambda c, s: (c.post("/api/stock/movements/", {"product": s["cola"].pk,
                              "movement_type": "OUT", "quantity": 10}),
                       c.delete(f"/api/products/{s['cola'].pk}/")),
         lambda b: b["total_products"] == 0),
    ],
    ids=["movement", "price", "threshold", "category-rename", "category-new", "product-new",
         "archive"],
)  # fmt: skip
def test_every_change_it_counts_shows_on_the_next_dashboard(admin_client, shop, change, expect):
    admin_client.get(DASHBOARD)  # cached now

    change(admin_client, shop)

    assert expect(admin_client.get(DASHBOARD).json())


def test_a_restored_product_and_a_deleted_category_show(admin_client, organization, shop):
    lamp = ProductFactory(organization=organization, sku="LAMP", price="9")
    empty = CategoryFactory(organization=organization, name="Empty")
    admin_client.post("/api/stock/movements/", {"product": lamp.pk, "movement_type": "IN",
                                               "quantity": 1})  # fmt: skip
    admin_client.post("/api/stock/movements/", {"product": lamp.pk, "movement_type": "OUT",
                                               "quantity": 1})  # fmt: skip
    admin_client.delete(f"/api/products/{lamp.pk}/")  # archived: it has history
    assert admin_client.get(DASHBOARD).json()["total_products"] == 1

    admin_client.post(f"/api/products/{lamp.pk}/restore/")
    admin_client.delete(f"/api/categories/{empty.pk}/")

    body = admin_client.get(DASHBOARD).json()
    assert body["total_products"] == 2
    assert "Empty" not in [row["name"] for row in body["categories"]]


def test_the_dashboard_at_a_location_follows_transfers(admin_client, organization, shop):
    back = admin_client.post("/api/locations/", {"name": "Back room"}).json()["id"]
    assert admin_client.get(DASHBOARD, {"location": back}).json()["total_quantity"] == 0

    admin_client.post("/api/stock/transfers/", {
        "product": shop["cola"].pk, "from_location": shop["cola"].levels.get().location_id,
        "to_location": back, "quantity": 3}, format="json")  # fmt: skip

    assert admin_client.get(DASHBOARD, {"location": back}).json()["total_quantity"] == 3


def test_alerts_follow_every_change_too(admin_client, organization, shop):
    soon = local_today(None) + datetime.timedelta(days=3)
    assert admin_client.get(ALERTS).json()["low_stock_count"] == 0

    admin_client.patch(f"/api/products/{shop['cola'].pk}/", {"low_stock_threshold": 12})
    body = admin_client.get(ALERTS).json()
    assert [p["sku"] for p in body["low_stock"]] == ["COLA"]

    yoghurt = ProductFactory(organization=organization, sku="YOG", price="1", track_lots=True)
    delivery = {"product": yoghurt.pk, "movement_type": "IN", "quantity": 4, "lot_code": "L1",
                "expiration_date": "2099-01-01"}  # fmt: skip
    admin_client.post("/api/stock/movements/", delivery)
    assert admin_client.get(ALERTS).json()["expiring_soon_count"] == 0
    lot = admin_client.get("/api/lots/").json()["results"][0]["id"]
    admin_client.patch(f"/api/lots/{lot}/", {"expiration_date": soon.isoformat()})
    assert [p["sku"] for p in admin_client.get(ALERTS).json()["expiring_soon"]] == ["YOG"]

    supplier = SupplierFactory(organization=organization)
    admin_client.patch(f"/api/products/{shop['cola'].pk}/", {"supplier": supplier.pk})
    assert admin_client.get(ALERTS).json()["low_stock"][0]["supplier"] == supplier.pk
    admin_client.delete(f"/api/suppliers/{supplier.pk}/")
    assert admin_client.get(ALERTS).json()["low_stock"][0]["supplier"] is None


def test_cached_alerts_keep_costs_from_sales_users(admin_client, sales_client, shop):
    admin_client.patch(f"/api/products/{shop['cola'].pk}/", {"low_stock_threshold": 12})
    shown = admin_client.get(ALERTS).json()["low_stock"][0]  # computed and cached, with costs
    hidden = sales_client.get(ALERTS).json()["low_stock"][0]  # from the cache
    assert (shown["cost_price"], shown["average_cost"]) == ("1.00", "1.0000")
    assert (hidden["cost_price"], hidden["average_cost"]) == (None, None)
    assert {k: v for k, v in hidden.items() if k not in ("cost_price", "average_cost")} == {
        k: v for k, v in shown.items() if k not in ("cost_price", "average_cost")
    }


def test_another_organizations_change_leaves_this_dashboard_cached(
    admin_client, other_admin_client, shop, django_assert_max_num_queries
):
    admin_client.get(DASHBOARD)
    rival = other_admin_client.post("/api/products/", {"name": "Rival", "price": "1",
                                                      "quantity": 3}).json()  # fmt: skip
    assert rival["quantity"] == 3
    with django_assert_max_num_queries(1):
        assert admin_client.get(DASHBOARD).json()["total_quantity"] == 10


def test_figures_are_computed_afresh_while_the_shared_cache_is_down(
    admin_client, shop, monkeypatch
):
    admin_client.get(DASHBOARD)
    monkeypatch.setattr(type(cache), "is_down", True, raising=False)

    shop["cola"].__class__.objects.filter(pk=shop["cola"].pk).update(price=Decimal("5.00"))

    assert admin_client.get(DASHBOARD).json()["total_inventory_value"] == "50.00"


def test_category_and_supplier_edits_in_the_admin_show_on_the_next_read(
    owner, admin_client, organization, shop
):
    """The admin saves and deletes them through the services, which move the figures on."""
    drinks = shop["drinks"]
    supplier = SupplierFactory(organization=organization, name="Fizz Ltd")
    low = {"supplier": supplier.pk, "low_stock_threshold": 12}
    admin_client.patch(f"/api/products/{shop['cola'].pk}/", low)
    assert drinks_row(admin_client.get(DASHBOARD).json())["name"] == "Drinks"
    assert admin_client.get(ALERTS).json()["low_stock"][0]["supplier"] == supplier.pk

    renamed = owner.post(
        f"/admin/inventory/category/{drinks.pk}/change/",
        {"name": "Soft drinks", "description": ""},
        secure=True,
    )
    assert renamed.status_code == 302
    assert drinks_row(admin_client.get(DASHBOARD).json())["name"] == "Soft drinks"

    deleted = owner.post(
        f"/admin/suppliers/supplier/{supplier.pk}/delete/", {"post": "yes"}, secure=True
    )
    assert deleted.status_code == 302
    assert admin_client.get(ALERTS).json()["low_stock"][0]["supplier"] is None


def test_the_admin_keeps_the_catalogues_rules(owner, admin_client, organization, shop):
    """A name taken whatever its case is refused on the page with the API's words; a category
    deleted from the changelist leaves the dashboard at once."""
    from inventory.models import Category

    SupplierFactory(organization=organization, name="Fizz Ltd")
    for url, name, words in [
        ("/admin/inventory/category/add/", "DRINKS", "A category with this name already exists."),
        ("/admin/suppliers/supplier/add/", "Fizz Ltd", "A supplier with this name already exists."),
    ]:
        taken = owner.post(url, {"name": name, "description": ""}, secure=True)
        assert taken.status_code == 200
        assert words in taken.content.decode()
    assert not Category.objects.filter(name="DRINKS").exists()

    empty = CategoryFactory(organization=organization, name="Empty")
    assert "Empty" in [row["name"] for row in admin_client.get(DASHBOARD).json()["categories"]]
    selection = {"action": "delete_selected", "post": "yes", "_selected_action": [empty.pk]}
    answer = owner.post("/admin/inventory/category/", selection, secure=True)
    assert answer.status_code == 302
    assert "Empty" not in [row["name"] for row in admin_client.get(DASHBOARD).json()["categories"]]
