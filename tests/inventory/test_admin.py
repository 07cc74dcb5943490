"""The Django admin for the catalogue: list, search, filters; variations inline; stock read-only."""

import pytest

from inventory.models import Product
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UserFactory


@pytest.fixture
def staff_client(client, db):
    user = UserFactory(username="root", organization=None, is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def catalogue(stocked, organization):
    category = CategoryFactory(organization=organization, name="Tools")
    supplier = SupplierFactory(organization=organization, name="Hammers Inc")
    parent = ProductFactory(organization=organization, sku="HAMMER", category=category,
                            supplier=supplier, has_variations=True)  # fmt: skip
    variation = stocked(quantity=4, organization=organization, sku="HAMMER-L", parent=parent,
                        attributes={"size": "L"})  # fmt: skip
    return {"category": category, "supplier": supplier, "parent": parent, "variation": variation}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/inventory/category/",
        "/admin/inventory/category/?q=tool",
        "/admin/inventory/product/",
        "/admin/inventory/product/?q=hammer&is_archived__exact=0&has_variations__exact=1",
        "/admin/suppliers/supplier/",
        "/admin/suppliers/supplier/?q=hammers",
    ],
)
def test_changelists_search_and_filters(staff_client, catalogue, url):
    response = staff_client.get(url, secure=True)
    assert response.status_code == 200


def test_product_page_shows_variations_inline_with_stock_read_only(staff_client, catalogue):
    response = staff_client.get(
        f"/admin/inventory/product/{catalogue['parent'].pk}/change/", secure=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "HAMMER-L" in html
    assert 'name="quantity"' not in html
    assert 'name="variations-0-quantity"' not in html


def test_admin_edit_does_not_write_quantity(staff_client, catalogue, rf):
    """An edit saved from a page loaded before a stock movement does not undo the movement."""
    from django.contrib.admin.sites import site

    from stock.services import record_movement

    variation = catalogue["variation"]
    stale = Product.objects.get(pk=variation.pk)  # the admin page was loaded: quantity 4
    record_movement(product=variation, movement_type="IN", quantity=10, user=None)
    stale.name = "Renamed"

    class Form:
        changed_data = ["name"]

    request = rf.post("/")
    request.user = UserFactory(is_staff=True, is_superuser=True, organization=None)
    site._registry[Product].save_model(request, stale, Form(), change=True)
    variation.refresh_from_db()
    assert (variation.name, variation.quantity) == ("Renamed", 14)


def test_admin_change_form_saves(staff_client, catalogue):
    variation = catalogue["variation"]
    form = {
        "organization": variation.organization_id,
        "sku": variation.sku,
        "name": "Renamed",
        "description": "",
        "category": "",
        "supplier": "",
        "price": "10.00",
        "cost_price": "",
        "low_stock_threshold": "0",
        "expiration_date": "",
        "variations-TOTAL_FORMS": "0",
        "variations-INITIAL_FORMS": "0",
        "supplier_products-TOTAL_FORMS": "0",
        "supplier_products-INITIAL_FORMS": "0",
    }
    response = staff_client.post(
        f"/admin/inventory/product/{variation.pk}/change/", form, secure=True
    )
    assert response.status_code == 302
    variation.refresh_from_db()
    assert (variation.name, variation.quantity) == ("Renamed", 4)


def test_admin_refuses_another_organizations_category(staff_client, catalogue, other_organization):
    product = catalogue["parent"]
    foreign = CategoryFactory(organization=other_organization)
    form = {
        "organization": product.organization_id,
        "sku": product.sku,
        "name": product.name,
        "description": "",
        "category": foreign.pk,
        "supplier": "",
        "price": "10.00",
        "cost_price": "",
        "low_stock_threshold": "0",
        "expiration_date": "",
        "variations-TOTAL_FORMS": "0",
        "variations-INITIAL_FORMS": "0",
        "supplier_products-TOTAL_FORMS": "0",
        "supplier_products-INITIAL_FORMS": "0",
    }
    response = staff_client.post(
        f"/admin/inventory/product/{product.pk}/change/", form, secure=True
    )
    assert response.status_code == 200  # the form again, with the error
    product.refresh_from_db()
    assert product.category == catalogue["category"]


def test_delete_action_archives_products_with_history(staff_client, catalogue):
    from stock.services import record_movement

    parent = catalogue["parent"]
    action = {"action": "delete_or_archive", "_selected_action": [parent.pk]}

    kept = staff_client.post("/admin/inventory/product/", action, secure=True, follow=True)
    assert "HAMMER-L still holds 4 in stock" in kept.content.decode()  # kept, and named
    parent.refresh_from_db()
    assert not parent.is_archived

    record_movement(
        product=catalogue["variation"], movement_type="OUT", quantity=4, user=None
    )  # written off: the ledger says where it went
    response = staff_client.post("/admin/inventory/product/", action, secure=True)
    assert response.status_code == 302
    parent.refresh_from_db()
    catalogue["variation"].refresh_from_db()
    assert parent.is_archived and catalogue["variation"].is_archived


def test_a_product_added_in_the_admin_goes_through_the_catalogues_service(
    staff_client, organization, manager_user, manager_client, django_capture_on_commit_callbacks
):
    """Added at its threshold, it is known low (not a crossing): a later IN of 2 that leaves it
    low sends no "just went low", exactly as for a product added through the API."""
    from django.core import mail

    from config.celery import app

    form = {
        "organization": organization.pk,
        "sku": "",
        "name": "Admin-made jam",
        "description": "",
        "category": "",
        "supplier": "",
        "price": "3.00",
        "cost_price": "",
        "low_stock_threshold": "5",
        "expiration_date": "",
        "barcode": "",
        "variations-TOTAL_FORMS": "0",
        "variations-INITIAL_FORMS": "0",
        "supplier_products-TOTAL_FORMS": "0",
        "supplier_products-INITIAL_FORMS": "0",
    }
    response = staff_client.post("/admin/inventory/product/add/", form, secure=True)
    assert response.status_code == 302
    product = Product.objects.get(name="Admin-made jam")
    assert product.sku == f"SKU-{product.pk:06d}"  # generated by the service, as in the API

    eager, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            body = {"product": product.pk, "movement_type": "IN", "quantity": 2}
            assert manager_client.post("/api/stock/movements/", body).status_code == 201
    finally:
        app.conf.task_always_eager = eager
    assert [m for m in mail.outbox if "just went low" in m.subject] == []


def test_a_product_added_in_the_admin_starts_its_average_cost_at_its_cost_price(
    staff_client, organization, admin_client
):
    """As a product created through the API without opening stock (API.md, Valuation): the
    admin now creates it through the same service (it used to leave the average at 0)."""
    form = {
        "organization": organization.pk,
        "sku": "JAM-2",
        "name": "Apricot jam",
        "price": "3.00",
        "cost_price": "1.25",
        "low_stock_threshold": "0",
        "variations-TOTAL_FORMS": "0",
        "variations-INITIAL_FORMS": "0",
        "supplier_products-TOTAL_FORMS": "0",
        "supplier_products-INITIAL_FORMS": "0",
    }
    assert staff_client.post("/admin/inventory/product/add/", form, secure=True).status_code == 302
    api = admin_client.post(
        "/api/products/", {"sku": "JAM-3", "name": "Jam", "price": "3.00", "cost_price": "1.25"}
    ).json()

    made_in_the_admin = Product.objects.get(sku="JAM-2")
    assert str(made_in_the_admin.average_cost) == api["average_cost"] == "1.2500"
