"""Replenishment in a real browser (issue 26): the Corner Shop's manager opens the
Replenishment page from the admin's index, reads what is due by supplier (suggested packs and
cost), makes the draft purchase orders with its button, follows the link to the draft, and a
second press orders nothing; the Quokka Shop's rules never show."""

from decimal import Decimal

import pytest

from purchases.models import PurchaseOrder
from replenishment.models import ReorderRule
from stock import services as stock_services
from suppliers.models import SupplierProduct
from tests.factories import SupplierFactory
from tests.support.browser import sign_in
from tests.support.shops import MARKER, build_corner_shop, build_quokka_shop

pytestmark = pytest.mark.browser


@pytest.fixture
def shops(organization, other_organization, manager_user):
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    corner = build_corner_shop(organization, manager_user)
    quokka = build_quokka_shop(other_organization)
    main = stock_services.default_location(organization_id=organization.pk)
    dairy = SupplierFactory(organization=organization, name="Dairy Co")
    # BREAD: 2 available at Main (threshold 5). In packs of 6, at least 12 a time.
    SupplierProduct.objects.create(organization=organization, product=corner["bread"],
                                   supplier=dairy, unit_cost=Decimal("1.10"), pack_size=6,
                                   minimum_order_quantity=12, supplier_sku="DC-BREAD")  # fmt: skip
    ReorderRule.objects.create(organization=organization, product=corner["bread"], location=main,
                               supplier=dairy, min_quantity=5, max_quantity=10)  # fmt: skip
    ReorderRule.objects.create(
        organization=other_organization,
        product=quokka["cheese"],
        location=quokka["yard"],
        min_quantity=1000,
        max_quantity=2000,
    )
    return corner, quokka


def test_the_manager_orders_what_is_due_once_from_the_replenishment_page(page, shops):
    sign_in(page, "mike")
    page.click("#site-pages a:text('Replenishment')")
    page.wait_for_selector(".replenishment-supplier")

    assert "Dairy Co" in page.inner_text(".replenishment-supplier h2")
    row = page.locator("tr.due-rule[data-sku='BREAD']")
    # 10 - 2 = 8, raised to 12, in whole packs of 6: 2 packs, 12 units at 1.10.
    assert row.locator(".suggested").inner_text() == "12"
    assert row.locator(".packs").inner_text() == "2 × 6"
    assert row.locator(".cost").inner_text() == "13.20 USD"
    assert MARKER not in page.content().lower()

    page.click("#make-orders input[type=submit]")
    page.wait_for_selector(".messagelist")

    order = PurchaseOrder.objects.get()
    assert "Draft orders made" in page.inner_text(".messagelist")
    assert page.locator("#nothing-due").count() == 1
    page.click(f".messagelist a:text('{order.reference}')")
    page.wait_for_selector("#purchaseorder_form")
    assert f"/admin/purchases/purchaseorder/{order.pk}/change/" in page.url
    assert (order.status, order.items.get().quantity, order.items.get().unit_cost) == (
        "draft", 12, Decimal("1.10"),
    )  # fmt: skip
    assert page.errors == []
