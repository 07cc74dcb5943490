"""Catalogue edits racing each other and the orders: real threads on PostgreSQL.

Each test commits for real (`transaction=True`) and forces the interleaving that went wrong:
a request is held at a chosen point of its service (by wrapping a function it calls) while the
other one runs. Each thread calls the API on its own database connection; an exception raised in
a thread (a deadlock, an IntegrityError at COMMIT) is what a client would have seen as a 500.
"""

import pytest
from django.db.models.deletion import Collector

from inventory import services
from inventory.models import Category, Product
from inventory.services import VariationFields
from purchases.models import PurchaseOrder
from sales.models import SalesOrder
from stock.services import catalogue as stock_catalogue
from suppliers import services as supplier_services
from suppliers.models import Supplier
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory
from tests.support.api import client_for
from tests.support.concurrency import HOLD, Pause, Request, meet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deleting(model):
    """For Pause(Collector, "delete"): only the collector deleting an instance of `model`."""
    return lambda collector: isinstance(collector.origin, model)


# --- 1. Locks in id order: no deadlock ------------------------------------------------------


def test_deleting_a_variation_while_its_parent_changes_category_never_deadlocks(
    monkeypatch, organization, admin_user
):
    """The delete used to lock the variation, then update its parent; the edit locked the
    parent, then updated its variations: each waited for the other (a deadlock, one 500)."""
    parent = ProductFactory(
        organization=organization, category=CategoryFactory(organization=organization)
    )
    variation = services.add_variation(
        parent=parent, fields=VariationFields(attributes={"size": "S"})
    )
    sale = CategoryFactory(organization=organization, name="Sale")
    deleter, editor = client_for(admin_user), client_for(admin_user)
    # Each request stops once it has written its first row, until the other has too.
    meet(monkeypatch, (services, "_remove_or_archive"), (services, "_save_fields"))

    delete = Request(lambda: deleter.delete(f"/api/variations/{variation.pk}/"))
    edit = Request(
        lambda: editor.patch(f"/api/products/{parent.pk}/", {"category": sale.pk}, format="json")
    )

    assert [delete.answer().status_code, edit.answer().status_code] == [204, 200]
    parent.refresh_from_db()
    assert (parent.category_id, parent.has_variations) == (sale.pk, False)
    assert not Product.objects.filter(pk=variation.pk).exists()


# --- 2. Edits re-read the row under its lock: no lost update --------------------------------


def test_concurrent_edits_of_a_category_keep_both_changes(monkeypatch, organization, manager_user):
    category = CategoryFactory(organization=organization, name="Drinks", description="")
    url = f"/api/categories/{category.pk}/"
    first, second = client_for(manager_user), client_for(manager_user)
    meet(monkeypatch, (services, "update_category"), before=True)  # both have read it

    rename = Request(lambda: first.patch(url, {"name": "Beverages"}, format="json"))
    describe = Request(lambda: second.patch(url, {"description": "Cold ones"}, format="json"))

    assert [rename.answer().status_code, describe.answer().status_code] == [200, 200]
    category.refresh_from_db()
    assert (category.name, category.description) == ("Beverages", "Cold ones")


def test_concurrent_edits_of_a_supplier_keep_every_change(monkeypatch, organization, manager_user):
    supplier = SupplierFactory(organization=organization, name="Acme", phone_number="")
    url = f"/api/suppliers/{supplier.pk}/"
    first, second = client_for(manager_user), client_for(manager_user)
    meet(monkeypatch, (supplier_services, "update_supplier"), before=True)  # both have read it

    rename = Request(lambda: first.patch(url, {"name": "Acme Ltd"}, format="json"))
    phone = Request(lambda: second.patch(url, {"phone_number": "555 0100"}, format="json"))

    answers = [rename.answer(), phone.answer()]
    assert [a.status_code for a in answers] == [200, 200]
    supplier.refresh_from_db()
    assert (supplier.name, supplier.phone_number) == ("Acme Ltd", "555 0100")
    # Each answer shows the row as saved, the other request's change included if it came first.
    assert answers[0].json()["name"] == "Acme Ltd"
    assert answers[1].json()["phone_number"] == "555 0100"


# --- 3. Variation attributes stay unique under concurrency -----------------------------------


def test_two_variations_edited_to_the_same_attributes_at_once_one_is_refused(
    monkeypatch, organization, manager_user
):
    parent = ProductFactory(organization=organization, sku="TEE")
    small = services.add_variation(parent=parent, fields=VariationFields(attributes={"size": "S"}))
    medium = services.add_variation(parent=parent, fields=VariationFields(attributes={"size": "M"}))
    clients = [client_for(manager_user), client_for(manager_user)]
    # Each request stops once it has saved, until the other has too.
    meet(monkeypatch, (services, "_save_fields"))

    requests = [
        Request(
            lambda c=c, v=v: c.patch(
                f"/api/variations/{v.pk}/", {"attributes": {"size": "L"}}, format="json"
            )
        )
        for c, v in zip(clients, (small, medium), strict=True)
    ]

    answers = sorted((r.answer() for r in requests), key=lambda a: a.status_code)
    assert [a.status_code for a in answers] == [200, 400]
    assert "attributes" in answers[1].json()
    sizes = Product.objects.filter(parent=parent).values_list("attributes__size", flat=True)
    assert sorted(sizes) in (["L", "M"], ["L", "S"])


def test_adding_and_editing_to_the_same_attributes_at_once_one_is_refused(
    monkeypatch, organization, manager_user
):
    parent = ProductFactory(organization=organization, sku="TEE")
    small = services.add_variation(parent=parent, fields=VariationFields(attributes={"size": "S"}))
    adder, editor = client_for(manager_user), client_for(manager_user)
    meet(monkeypatch, (services, "_insert_product"), (services, "_save_fields"))

    add = Request(
        lambda: adder.post(
            f"/api/products/{parent.pk}/variations/", {"attributes": {"size": "L"}}, format="json"
        )
    )
    edit = Request(
        lambda: editor.patch(
            f"/api/variations/{small.pk}/", {"attributes": {"size": "L"}}, format="json"
        )
    )

    codes = sorted([add.answer().status_code, edit.answer().status_code])
    assert codes in ([200, 400], [201, 400])
    live = Product.objects.filter(parent=parent, is_archived=False)
    assert live.filter(attributes={"size": "L"}).count() == 1


# --- 4. A delete racing an insert that refers to the row: 409 or 400, never a 500 -----------


def test_deleting_a_category_while_a_product_is_created_in_it_is_409(
    monkeypatch, organization, manager_user
):
    """The product is inserted, not yet committed, when the delete runs: the delete used to
    succeed and the product's COMMIT then failed on its foreign key (500)."""
    category = CategoryFactory(organization=organization)
    creator, deleter = client_for(manager_user), client_for(manager_user)
    pause = Pause(monkeypatch, stock_catalogue, "record_initial_stock")  # after the INSERT

    create = Request(
        lambda: creator.post(
            "/api/products/", {"name": "Tea", "price": "2", "category": category.pk}, format="json"
        )
    )
    pause.wait_until_reached()
    delete = Request(lambda: deleter.delete(f"/api/categories/{category.pk}/"))
    delete.join(timeout=HOLD)  # it waits for the product's transaction (or wrongly finishes)
    pause.release()

    assert create.answer().status_code == 201
    response = delete.answer()
    assert response.status_code == 409
    assert "still has products" in response.json()["detail"]
    assert Product.objects.get(category=category).name == "Tea"


def test_creating_a_product_in_a_category_being_deleted_is_400(
    monkeypatch, organization, manager_user
):
    """The category is deleted, not yet committed, when the product is inserted: the product's
    COMMIT used to fail on its foreign key (500)."""
    category = CategoryFactory(organization=organization)
    creator, deleter = client_for(manager_user), client_for(manager_user)
    pause = Pause(monkeypatch, Collector, "delete", when=deleting(Category))  # after the DELETE

    delete = Request(lambda: deleter.delete(f"/api/categories/{category.pk}/"))
    pause.wait_until_reached()
    create = Request(
        lambda: creator.post(
            "/api/products/", {"name": "Tea", "price": "2", "category": category.pk}, format="json"
        )
    )
    create.join(timeout=HOLD)  # it waits for the delete's transaction
    pause.release()

    assert delete.answer().status_code == 204
    response = create.answer()
    assert response.status_code == 400
    assert "category" in response.json()
    assert not Product.objects.exists()
    assert not Category.objects.filter(pk=category.pk).exists()


def test_a_purchase_order_committed_while_its_supplier_is_deleted_makes_the_delete_409(
    monkeypatch, organization, manager_user, stocked
):
    """Django looked for orders, found none, then an order committed before the DELETE: the
    delete's COMMIT used to fail on the order's foreign key (500)."""
    supplier = SupplierFactory(organization=organization)
    product = stocked(quantity=0, organization=organization, supplier=supplier)
    buyer, deleter = client_for(manager_user), client_for(manager_user)
    pause = Pause(monkeypatch, Collector, "delete", before=True, when=deleting(Supplier))

    delete = Request(lambda: deleter.delete(f"/api/suppliers/{supplier.pk}/"))
    pause.wait_until_reached()
    order = buyer.post(
        "/api/purchase-orders/",
        {
            "supplier": supplier.pk,
            "items": [{"product": product.pk, "quantity": 1, "unit_cost": "1.00"}],
        },
        format="json",
    )
    pause.release()

    assert order.status_code == 201, order.json()
    response = delete.answer()
    assert response.status_code == 409
    assert "Purchase orders" in response.json()["detail"]
    assert PurchaseOrder.objects.get().supplier_id == supplier.pk
    product.refresh_from_db()
    assert product.supplier_id == supplier.pk  # the whole delete was undone


def test_an_order_line_committed_while_its_product_is_deleted_archives_the_product(
    monkeypatch, organization, admin_user
):
    """Django looked for history, found none, then an order line committed before the DELETE:
    the delete's COMMIT used to fail on the line's foreign key (500)."""
    product = ProductFactory(organization=organization)
    seller, deleter = client_for(admin_user), client_for(admin_user)
    pause = Pause(monkeypatch, Collector, "delete", before=True, when=deleting(Product))

    delete = Request(lambda: deleter.delete(f"/api/products/{product.pk}/"))
    pause.wait_until_reached()
    order = seller.post(
        "/api/sales-orders/", {"items": [{"product": product.pk, "quantity": 1}]}, format="json"
    )
    pause.release()

    assert order.status_code == 201, order.json()
    assert delete.answer().status_code == 204
    product.refresh_from_db()
    assert product.is_archived
    assert SalesOrder.objects.get().items.get().product_id == product.pk
