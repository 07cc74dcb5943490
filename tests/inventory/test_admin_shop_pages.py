"""What a shop's staff read in the admin: the product list shows SKU, name, what is available
and what it is worth, with low-stock and expiry filters and archived products hidden unless
asked for; a product's page shows its stock per location and lot and its last movements; order
lines read `SKU name × quantity` and order pages show their totals; the ledger list fits a
1400 px window (few short columns, notes truncated)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from core.dates import local_today
from orders.services import OrderItem
from purchases import services as purchase_services
from sales import services as sales_services
from stock import services as stock_services
from stock.models import StockMovement
from tests.factories import ProductFactory, SupplierFactory
from users.models import Role

PRODUCTS = reverse("admin:inventory_product_changelist")
LEDGER = reverse("admin:stock_stockmovement_changelist")


@pytest.fixture
def shelf(stocked, organization, manager_user):
    """Milk (plenty, one reserved), low eggs, expired cheese, soon-expiring yoghurt lots, and
    an archived product."""
    milk = stocked(quantity=12, organization=organization, sku="MILK-1L", name="Milk 1 L",
                   price="1.50", low_stock_threshold=2)  # fmt: skip
    line = OrderItem(milk, 2)
    order = sales_services.create_sales_order(
        organization=organization, user=manager_user, items=[line]
    )
    sales_services.update_sales_order(order=order, user=manager_user,
                                      status="confirmed")  # fmt: skip
    eggs = stocked(quantity=3, organization=organization, sku="EGGS", name="Eggs",
                   low_stock_threshold=5)  # fmt: skip
    cheese = stocked(quantity=4, organization=organization, sku="CHEESE", name="Cheese",
                     expiration_date=local_today(None) - datetime.timedelta(days=1))  # fmt: skip
    yoghurt = ProductFactory(organization=organization, sku="YOG", name="Yoghurt",
                             track_lots=True)  # fmt: skip
    back_room = stock_services.create_location(organization=organization, name="Back room")
    stock_services.record_movement(
        product=yoghurt, movement_type="IN", quantity=6, user=manager_user, lot_code="L-7",
        expiration_date=local_today(None) + datetime.timedelta(days=3), location=back_room,
    )  # fmt: skip
    stock_services.record_movement(
        product=yoghurt, movement_type="IN", quantity=4, user=manager_user, lot_code="L-9",
        expiration_date=local_today(None) + datetime.timedelta(days=40),
    )  # fmt: skip
    gone = ProductFactory(organization=organization, sku="OLD", name="Discontinued",
                          is_archived=True)  # fmt: skip
    return {"milk": milk, "eggs": eggs, "cheese": cheese, "yoghurt": yoghurt, "gone": gone,
            "order": order, "back_room": back_room}  # fmt: skip


def skus(response) -> list[str]:
    return sorted(product.sku for product in response.context["cl"].result_list)


def test_the_product_list_shows_sku_name_available_and_value(manager, shelf):
    response = manager.get(PRODUCTS, {"q": "MILK"}, secure=True)
    changelist = response.context["cl"]
    columns = [name for name in changelist.list_display if name != "action_checkbox"]
    assert columns[:5] == ["sku", "name", "category", "selling_price", "available"]
    assert "stock_value" in changelist.list_display
    assert "organization" not in changelist.list_display
    html = response.content.decode()
    row = html[html.index("MILK-1L") :]
    assert '<td class="field-available">10</td>' in row  # 12 on hand, 2 reserved
    assert '<td class="field-stock_value">18.00 USD</td>' in row  # 12 * 1.50


def test_archived_products_are_hidden_unless_asked_for(manager, shelf):
    assert "OLD" not in skus(manager.get(PRODUCTS, secure=True))
    assert skus(manager.get(PRODUCTS, {"archived": "yes"}, secure=True)) == ["OLD"]
    assert "OLD" in skus(manager.get(PRODUCTS, {"archived": "all"}, secure=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stock": "low"}, ["EGGS"]),
        ({"stock": "out"}, []),
        ({"expiry": "expired"}, ["CHEESE"]),
        ({"expiry": "soon"}, ["YOG"]),
    ],
)
def test_low_stock_and_expiry_filters(manager, shelf, query, expected):
    response = manager.get(PRODUCTS, query, secure=True)
    assert response.status_code == 200
    assert skus(response) == expected


def test_a_superusers_expiry_filter_holds_every_organization(
    client, shelf, organization, other_organization
):
    """A platform superuser attached to one organization still sees every one's products."""
    from tests.factories import UserFactory

    root = UserFactory(organization=organization, is_staff=True, is_superuser=True)
    elsewhere = ProductFactory(organization=other_organization, sku="FETA", track_lots=True)
    stock_services.record_movement(
        product=elsewhere, movement_type="IN", quantity=2, user=None, lot_code="F-1",
        expiration_date=local_today(None) + datetime.timedelta(days=2),
    )  # fmt: skip
    client.force_login(root)
    assert skus(client.get(PRODUCTS, {"expiry": "soon"}, secure=True)) == ["FETA", "YOG"]


def test_a_product_page_shows_its_stock_per_location_and_lot(manager, shelf):
    yoghurt = shelf["yoghurt"]
    html = manager.get(reverse("admin:inventory_product_change", args=[yoghurt.pk]),
                       secure=True).content.decode()  # fmt: skip
    table = html[html.index('class="stock-levels"') :]
    table = table[: table.index("</table>")]
    expires = (local_today(None) + datetime.timedelta(days=3)).isoformat()
    assert (
        f"<tr><td>Back room</td><td>L-7</td><td>{expires}</td><td>6</td><td>0</td><td>6</td>"
        in (table)
    )
    assert "<td>Main</td><td>L-9</td>" in table


def test_a_product_page_shows_reserved_stock(manager, shelf):
    milk = shelf["milk"]
    html = manager.get(reverse("admin:inventory_product_change", args=[milk.pk]),
                       secure=True).content.decode()  # fmt: skip
    assert "<tr><td>Main</td><td>-</td><td>-</td><td>12</td><td>2</td><td>10</td></tr>" in html


def test_a_product_page_shows_the_last_movements_and_links_to_the_rest(
    manager, shelf, organization
):
    eggs = shelf["eggs"]
    for _ in range(24):
        stock_services.record_movement(product=eggs, movement_type="IN", quantity=1, user=None)
    stock_services.record_movement(product=eggs, movement_type="OUT", quantity=5, user=None,
                                   note="Broken")  # fmt: skip

    html = manager.get(reverse("admin:inventory_product_change", args=[eggs.pk]),
                       secure=True).content.decode()  # fmt: skip

    recent = html[html.index('class="recent-movements"') :]
    recent = recent[: recent.index("</table>")]
    assert recent.count("<tr>") == 1 + 20  # the header and the last 20
    first = recent[recent.index("<tbody>") :]
    assert "<td>OUT</td><td>Main</td><td>-5</td><td>22</td><td>Manual</td>" in first[:300]
    ledger = f"{LEDGER}?product={eggs.pk}"
    assert f'href="{ledger}"' in html
    listed = manager.get(ledger, secure=True).context["cl"].result_list
    assert {movement.product_id for movement in listed} == {eggs.pk}
    assert len(listed) == 26


def test_order_lines_read_sku_name_times_quantity_and_orders_show_totals(
    manager, shelf, organization, manager_user
):
    supplier = SupplierFactory(organization=organization)
    purchase = purchase_services.create_purchase_order(
        organization=organization, user=manager_user, supplier=supplier,
        items=[OrderItem(shelf["milk"], 10, Decimal("0.95")),
               OrderItem(shelf["eggs"], 3, Decimal("2.10"))],
    )  # fmt: skip
    sale = shelf["order"]

    sale_page = manager.get(reverse("admin:sales_salesorder_change", args=[sale.pk]), secure=True)
    purchase_page = manager.get(
        reverse("admin:purchases_purchaseorder_change", args=[purchase.pk]), secure=True
    )

    assert "MILK-1L Milk 1 L × 2" in sale_page.content.decode()
    assert '<div class="readonly">3.00 USD</div>' in sale_page.content.decode()  # 2 * 1.50
    assert "MILK-1L Milk 1 L × 10" in purchase_page.content.decode()
    assert '<div class="readonly">15.80 USD</div>' in purchase_page.content.decode()
    listed = manager.get(reverse("admin:purchases_purchaseorder_changelist"), secure=True)
    assert '<td class="field-total">15.80 USD</td>' in listed.content.decode()  # 9.50 + 6.30
    sales = manager.get(reverse("admin:sales_salesorder_changelist"), secure=True)
    assert '<td class="field-total">3.00 USD</td>' in sales.content.decode()


def test_the_ledger_list_is_narrow(manager, shelf):
    stock_services.record_movement(product=shelf["eggs"], movement_type="IN", quantity=1,
                                   user=None, note="A" * 300)  # fmt: skip

    response = manager.get(LEDGER, secure=True)

    changelist = response.context["cl"]
    assert len(changelist.list_display) <= 9  # no checkbox: the ledger has no actions
    assert "organization" not in changelist.list_display and "id" not in changelist.list_display
    html = response.content.decode()
    assert "A" * 300 not in html and "A" * 39 + "…" in html
    row = next(m for m in changelist.result_list if m.note.startswith("A"))
    assert row.product.sku == "EGGS"
    assert 'class="field-when"' in html
    assert StockMovement.objects.filter(note__startswith="AAA").count() == 1


def test_a_superuser_sees_the_organization_column(client, shelf):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True, role=Role.ADMIN))  # fmt: skip
    assert "organization" in client.get(LEDGER, secure=True).context["cl"].list_display
    assert "organization" in client.get(PRODUCTS, secure=True).context["cl"].list_display
