"""Costs in the admin (issue 15, valuation of issue 13): the product list and page show the
moving-average cost and the stock at cost, the ledger each movement's unit cost, "Record a
movement" takes an IN's unit cost (through `stock.services`), sales order pages the cost of
goods sold and the gross margin once fulfilled (lines: unit cost and line cost, never an
input), purchase order pages their totals; and none of it for a user who may not see costs.
Figures: tests/support/shops.py (the Corner Shop)."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from inventory.models import Product
from orders.services import OrderItem
from purchases import services as purchase_services
from sales import services as sales_services
from sales.models import SalesOrder
from stock.models import StockMovement
from tests.factories import SupplierFactory
from tests.support.shops import build_corner_shop
from users.models import Role

PRODUCTS = reverse("admin:inventory_product_changelist")
LEDGER = reverse("admin:stock_stockmovement_changelist")
RECORD = reverse("admin:stock_stockmovement_record")


@pytest.fixture
def shop(organization, manager_user):
    return build_corner_shop(organization, manager_user)


@pytest.fixture
def no_costs(db):
    """The manager role without the permission to see costs (as the `sales` role is)."""
    Group.objects.get(name=Role.MANAGER).permissions.remove(
        Permission.objects.get(codename="view_costs")
    )


def row_of(html: str, sku: str) -> str:
    start = html.index(f">{sku}<")
    return html[start : html.index("</tr>", start)]


def readonly(html: str, label: str) -> str:
    """What a page shows, read-only, beside `label`."""
    found = re.search(rf'<label>{label}:</label>\s*<div class="readonly">(.*?)</div>', html)
    assert found, f"no {label!r} on the page"
    return found.group(1)


def line_cell(html: str, line: int, field: str) -> str:
    """What an order's line `line` shows, read-only, in the column `field`."""
    row = html[html.index(f'id="items-{line}"') :]
    found = re.search(rf'<td class="field-{field}">\s*<p>(.*?)</p>', row[: row.index("</tr>")])
    assert found, f"no {field} on line {line}"
    return found.group(1)


def page(client, product) -> str:
    address = reverse("admin:inventory_product_change", args=[product.pk])
    return client.get(address, secure=True).content.decode()


def test_the_product_list_shows_average_cost_and_stock_at_cost(manager, shop):
    response = manager.get(PRODUCTS, secure=True)

    columns = response.context["cl"].list_display
    assert columns.index("stock_value") < columns.index("unit_cost") < columns.index("cost_value")
    # Amounts carry the organization's currency.
    milk = row_of(response.content.decode(), "MILK")
    assert '<td class="field-selling_price">1.50 USD</td>' in milk
    assert '<td class="field-stock_value">27.00 USD</td>' in milk  # 18 x 1.50
    assert '<td class="field-unit_cost">0.9000 USD</td>' in milk
    assert '<td class="field-cost_value">16.20 USD</td>' in milk  # 18 x 0.9000
    yoghurt = row_of(response.content.decode(), "YOG")
    assert '<td class="field-cost_value">4.00 USD</td>' in yoghurt  # 10 x 0.4000


def test_the_product_list_sorts_by_stock_at_cost(manager, shop):
    columns = manager.get(PRODUCTS, secure=True).context["cl"].list_display
    listed = manager.get(PRODUCTS, {"o": f"-{columns.index('cost_value')}"}, secure=True)
    assert [p.sku for p in listed.context["cl"].result_list] == ["MILK", "CANDLE", "YOG",
                                                                 "BREAD"]  # fmt: skip


def test_a_product_page_shows_what_its_stock_is_worth(manager, shop):
    html = page(manager, shop["milk"])
    stock = html[html.index('class="fieldset-heading">Stock</h2>') :]
    assert readonly(stock, "Stock value") == "27.00 USD"  # 18 x 1.50
    assert readonly(stock, "Average cost") == "0.9000 USD"
    assert readonly(stock, "Value at cost") == "16.20 USD"  # 18 x 0.9000
    assert 'name="cost_price"' in html  # the expected purchase cost stays editable
    assert 'for="id_price">Price (USD):</label>' in html  # typed in the currency


def test_the_ledger_shows_each_movements_unit_cost_in_its_narrow_list(manager, shop):
    response = manager.get(LEDGER, {"product": shop["yoghurt"].pk}, secure=True)

    changelist = response.context["cl"]
    assert "unit_cost" in changelist.list_display
    assert len(changelist.list_display) <= 9
    html = response.content.decode()
    assert '<td class="field-change">IN +10</td>' in html
    assert '<td class="field-unit_cost">0.4000</td>' in html


def test_recording_an_in_at_a_unit_cost_moves_the_average(manager, manager_user, shop):
    """18 milk at 0.9000 (16.20) and 2 more at 1.90 (3.80): 20.00 / 20 = 1.0000."""
    milk = shop["milk"]
    form = manager.get(f"{RECORD}?product={milk.pk}", secure=True).content.decode()
    assert 'name="unit_cost"' in form

    response = manager.post(RECORD, {"product": milk.pk, "movement_type": "IN", "quantity": "2",
                                     "unit_cost": "1.90"}, secure=True)  # fmt: skip

    assert response.status_code == 302
    movement = StockMovement.objects.filter(product=milk).latest("id")
    assert (movement.delta, movement.unit_cost, movement.performed_by) == (
        2, Decimal("1.9000"), manager_user,
    )  # fmt: skip
    milk.refresh_from_db()
    assert (milk.quantity, milk.average_cost) == (20, Decimal("1.0000"))
    ledger = manager.get(response["Location"], secure=True).content.decode()
    assert '<td class="field-unit_cost">1.9000</td>' in ledger


def test_an_in_without_a_unit_cost_is_valued_at_the_average(manager, shop):
    milk = shop["milk"]
    manager.post(RECORD, {"product": milk.pk, "movement_type": "IN", "quantity": "2"},
                 secure=True)  # fmt: skip
    milk.refresh_from_db()
    assert milk.average_cost == Decimal("0.9000")
    assert StockMovement.objects.filter(product=milk).latest("id").unit_cost == Decimal("0.9000")


@pytest.mark.parametrize(
    "movement_type, unit_cost, message",
    [
        ("OUT", "1.00", "Only an IN takes a unit cost"),
        ("ADJUST", "1.00", "Only an IN takes a unit cost"),
        ("IN", "-1", "greater than or equal to 0"),
        ("IN", "abc", "Enter a number"),
        ("IN", "1.23456", "no more than 4 decimal places"),
        ("IN", "1e400", "no more than 14 digits"),
    ],
)
def test_a_bad_unit_cost_is_a_form_error_and_changes_nothing(
    manager, shop, movement_type, unit_cost, message
):
    milk = shop["milk"]
    before = StockMovement.objects.count()

    body = {"product": milk.pk, "movement_type": movement_type, "quantity": "1",
            "unit_cost": unit_cost}  # fmt: skip
    response = manager.post(RECORD, body, secure=True)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get("unit_cost", []))
    assert StockMovement.objects.count() == before
    milk.refresh_from_db()
    assert (milk.quantity, milk.average_cost) == (18, Decimal("0.9000"))


def test_a_fulfilled_sales_order_shows_its_cost_of_goods_and_margin(manager, shop):
    order = SalesOrder.objects.get(items__product=shop["milk"])
    html = manager.get(reverse("admin:sales_salesorder_change", args=[order.pk]),
                       secure=True).content.decode()  # fmt: skip

    assert readonly(html, "Total") == "3.00 USD"  # 2 x 1.50
    assert readonly(html, "Cost of goods sold") == "1.80 USD"  # 2 x 0.9000
    assert readonly(html, "Gross margin") == "1.20 USD"
    assert line_cell(html, 0, "unit_cost") == "0.9000"
    assert line_cell(html, 0, "line_cost") == "1.80"


def test_a_pending_order_has_no_cost_yet_and_its_lines_costs_are_no_input(
    manager, manager_user, organization, shop
):
    order = sales_services.create_sales_order(
        organization=organization, user=manager_user,
        items=[OrderItem(shop["candle"], 1)],
    )  # fmt: skip
    html = manager.get(reverse("admin:sales_salesorder_change", args=[order.pk]),
                       secure=True).content.decode()  # fmt: skip

    assert readonly(html, "Cost of goods sold") == "-"
    assert readonly(html, "Gross margin") == "-"
    assert 'name="items-0-quantity"' in html  # the line is editable while pending...
    assert 'name="items-0-unit_cost"' not in html  # ...but its costs are fulfilment's
    assert 'name="items-0-line_cost"' not in html


def test_a_purchase_order_page_keeps_its_total(manager, manager_user, organization, shop):
    order = purchase_services.create_purchase_order(
        organization=organization, user=manager_user, supplier=SupplierFactory(**{
            "organization": organization}),
        items=[OrderItem(shop["milk"], 10, Decimal("0.95"))],
    )  # fmt: skip
    html = manager.get(reverse("admin:purchases_purchaseorder_change", args=[order.pk]),
                       secure=True).content.decode()  # fmt: skip
    assert readonly(html, "Total") == "9.50 USD"  # 10 x 0.95


def test_no_cost_figure_for_who_may_not_see_costs(manager, shop, no_costs):
    listed = manager.get(PRODUCTS, secure=True)
    assert {"unit_cost", "cost_value"}.isdisjoint(listed.context["cl"].list_display)
    milk_page = page(manager, shop["milk"])
    assert "0.9000" not in milk_page and "16.20" not in milk_page
    assert 'name="cost_price"' not in milk_page
    ledger = manager.get(LEDGER, secure=True)
    assert "unit_cost" not in ledger.context["cl"].list_display
    movement = StockMovement.objects.filter(product=shop["milk"]).first()
    detail = manager.get(reverse("admin:stock_stockmovement_change", args=[movement.pk]),
                         secure=True).content.decode()  # fmt: skip
    assert "Unit cost" not in detail and "0.9000" not in detail
    form = manager.get(RECORD, secure=True).content.decode()
    assert 'name="unit_cost"' not in form
    order = SalesOrder.objects.get(items__product=shop["milk"])
    sale = manager.get(reverse("admin:sales_salesorder_change", args=[order.pk]),
                       secure=True).content.decode()  # fmt: skip
    assert "Cost of goods sold" not in sale and "Gross margin" not in sale
    assert "field-unit_cost" not in sale and "field-line_cost" not in sale
    # a unit cost posted anyway is not read: the IN is at the average
    manager.post(RECORD, {"product": shop["milk"].pk, "movement_type": "IN", "quantity": "2",
                          "unit_cost": "100.00"}, secure=True)  # fmt: skip
    assert Product.objects.get(pk=shop["milk"].pk).average_cost == Decimal("0.9000")
