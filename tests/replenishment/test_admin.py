"""Replenishment in the admin: the Replenishment page (what is due by supplier, the button
that makes the drafts once), supplier products inline on the supplier's and the product's
pages, reorder rules through their services; the organization's own only."""

from decimal import Decimal

import pytest

from purchases.models import PurchaseOrder
from replenishment.models import ReorderRule
from stock import services as stock_services
from suppliers.models import SupplierProduct
from tests.factories import ProductFactory, SupplierFactory
from tests.support.admin import change_url, form_errors, posted, url, with_new_line

pytestmark = pytest.mark.django_db

PAGE = "/admin/replenishment/"


@pytest.fixture
def due(organization, other_organization):
    main = stock_services.default_location(organization_id=organization.pk)
    dairy = SupplierFactory(organization=organization, name="Dairy Co")
    milk = ProductFactory(organization=organization, sku="MILK", name="Milk")
    SupplierProduct.objects.create(organization=organization, product=milk, supplier=dairy,
                                   unit_cost=Decimal("0.80"), pack_size=6)  # fmt: skip
    ReorderRule.objects.create(organization=organization, product=milk, location=main,
                               supplier=dairy, min_quantity=5, max_quantity=20)  # fmt: skip
    theirs = ProductFactory(organization=other_organization, sku="QUOKKA")
    ReorderRule.objects.create(
        organization=other_organization,
        product=theirs,
        location=stock_services.default_location(organization_id=other_organization.pk),
        min_quantity=5,
        max_quantity=20,
    )
    return {"dairy": dairy, "milk": milk, "main": main}


def test_the_page_lists_what_is_due_by_supplier_with_packs_and_cost(manager, due):
    response = manager.get(PAGE, secure=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Dairy Co" in page and "MILK" in page
    assert "24" in page and "4 &times; 6" in page  # 20 in packs of 6
    assert "19.20 USD" in page
    assert "QUOKKA" not in page  # another organization's


def test_the_button_makes_the_drafts_once_and_links_to_them(manager, due):
    response = manager.post(PAGE, secure=True, follow=True)

    order = PurchaseOrder.objects.get()
    assert (order.status, order.supplier, order.items.get().quantity) == ("draft", due["dairy"], 24)
    page = response.content.decode()
    assert change_url(order) in page and order.reference in page
    assert "Nothing is due" in page

    again = manager.post(PAGE, secure=True, follow=True)

    assert "Nothing to order" in again.content.decode()
    assert PurchaseOrder.objects.count() == 1


def test_a_supplier_product_added_on_the_suppliers_page_goes_through_the_service(manager, due):
    farm = SupplierFactory(organization=due["milk"].organization, name="Farm Ltd")
    SupplierProduct.objects.filter(product=due["milk"]).update(is_preferred=True)
    page = manager.get(change_url(farm), secure=True)
    data = with_new_line(
        posted(page), "supplier_products", product=due["milk"].pk, unit_cost="0.70",
        pack_size=12, lead_time_days=2, minimum_order_quantity=0, is_preferred="on",
    )  # fmt: skip

    response = manager.post(change_url(farm), data, secure=True)

    assert response.status_code == 302, response.context and response.context.get("errors")
    mine = SupplierProduct.objects.get(supplier=farm)
    assert (mine.pack_size, mine.is_preferred) == (12, True)
    assert SupplierProduct.objects.get(supplier=due["dairy"]).is_preferred is False


def test_the_products_page_shows_its_supplier_products(manager, due):
    response = manager.get(change_url(due["milk"]), secure=True)

    assert response.status_code == 200
    assert "supplier products" in response.content.decode().lower()
    assert "Dairy Co" in response.content.decode()


def test_a_rule_with_max_not_above_min_is_a_form_error(manager, due):
    page = manager.get(url(ReorderRule, "add"), secure=True)
    data = posted(page, product=due["milk"].pk, location=due["main"].pk, min_quantity=5,
                  max_quantity=5)  # fmt: skip

    response = manager.post(url(ReorderRule, "add"), data, secure=True)

    assert response.status_code == 200
    assert form_errors(response)["max_quantity"] == ["Must be above min_quantity."]


def test_a_rule_is_edited_through_the_service(manager, due):
    rule = ReorderRule.objects.get(product=due["milk"])
    page = manager.get(change_url(rule), secure=True)

    response = manager.post(change_url(rule), posted(page, max_quantity=50), secure=True)

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.max_quantity == 50


def test_another_organizations_rules_are_out_of_reach(manager, due, other_organization):
    theirs = ReorderRule.objects.get(organization=other_organization)

    assert manager.get(change_url(theirs), secure=True).status_code in (302, 404)
    assert "QUOKKA" not in manager.get(url(ReorderRule), secure=True).content.decode()
