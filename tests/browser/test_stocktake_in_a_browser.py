"""A stocktake in the admin, in a real browser (issue 25): the Corner Shop's manager opens one
at the shop floor, types what the shelves hold into the count sheet, a sale is rung up before
the completion, and completing keeps the sale: only the counted difference is posted, and the
variance shows on the page."""

import pytest

from inventory.models import Product
from orders.services import OrderItem
from sales.services import create_sales_order, update_sales_order
from stock.models import StockMovement
from stock.services import default_location, record_initial_stock
from stocktakes.models import Stocktake
from tests.factories import ProductFactory
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def shelf(organization, manager_user):
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    products = {}
    for sku, quantity in (("TEA-1", 10), ("JAM-1", 5)):
        products[sku] = ProductFactory(
            organization=organization, sku=sku, name=f"{sku} jar", cost_price="2.00"
        )
        record_initial_stock(product=products[sku], quantity=quantity, user=None)
    return products


def test_a_count_typed_into_the_sheet_posts_only_the_difference(
    page, shelf, organization, manager_user
):
    sign_in(page, "mike")
    page.on("dialog", lambda dialog: dialog.accept())  # "Post every counted difference?"
    page.goto("/admin/stocktakes/stocktake/add/")
    page.select_option("#id_location", label="Main")
    page.check("#id_blind")
    page.click("input[type=submit][name=_save]")
    page.wait_for_selector("#count-lines")
    assert "ST-00001 opened." in page.inner_text(".messagelist")
    rows = page.locator("#count-lines tbody tr.line")
    assert [rows.nth(i).get_attribute("data-sku") for i in range(rows.count())] == [
        "JAM-1",
        "TEA-1",
    ]
    assert page.locator("th:text('Expected')").count() == 1  # the manager sees the books

    tea = shelf["TEA-1"]
    page.fill("input[aria-label='Count of TEA-1']", "8")
    page.fill("input[aria-label='Count of JAM-1']", "5")
    page.click("input[type=submit][name=_count]")
    page.wait_for_selector(".messagelist")
    assert "2 line(s) counted." in page.inner_text(".messagelist")
    tea_row = page.locator("tr.line[data-sku='TEA-1']")
    assert tea_row.locator(".expected").inner_text() == "10"
    assert tea_row.locator(".difference").inner_text() == "-2"

    # A sale rung up after the shelf was counted.
    order = create_sales_order(
        organization=organization, user=manager_user, items=[OrderItem(tea, 3)]
    )
    update_sales_order(order=order, user=manager_user, status="fulfilled")
    page.reload()
    assert page.locator("tr.line[data-sku='TEA-1'] td").nth(7).inner_text() == "yes"

    page.click("input[type=submit][name=_complete]")
    page.wait_for_selector("#stocktake-variance")
    assert "ST-00001 completed: -2 unit(s) posted" in page.inner_text(".messagelist")
    assert page.inner_text("#stocktake-status") == "Completed"
    assert "-2" in page.inner_text("#stocktake-variance")
    assert "-4.00 USD" in page.inner_text("#stocktake-variance")
    assert page.locator("input[aria-label='Count of TEA-1']").count() == 0  # no more counts

    assert Product.objects.get(pk=tea.pk).quantity == 10 - 3 - 2  # the sale stays
    (adjust,) = StockMovement.objects.filter(source="stocktake")
    assert (adjust.delta, adjust.reference) == (-2, "ST-00001")
    assert adjust.performed_by.username == "mike"
    assert Stocktake.objects.get().location == default_location(organization_id=organization.pk)
    assert page.errors == []
