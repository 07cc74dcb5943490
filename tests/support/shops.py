"""Two small shops for the admin dashboard's tests (Django client and browser), each made
through the services as a shop would make it, with figures worked out by hand below.

The Corner Shop (locations Main and Back room; stock valued at price and at cost):

| product | category | where | on hand | price | average cost | value | at cost |
| --- | --- | --- | --- | --- | --- | --- | --- |
| MILK | Dairy | 13 Main, 5 Back room | 18 | 1.50 | 0.9000 | 27.00 | 16.20 |
| BREAD | Bakery | Main | 2 (threshold 5: low by 3) | 2.00 | 1.0000 | 4.00 | 2.00 |
| YOG (lot L1, expires in 3 days) | Dairy | Back room | 10 | 0.80 | 0.4000 | 8.00 | 4.00 |
| CANDLE | none | Main | 4 | 5.00 | 2.0000 | 20.00 | 8.00 |

By category: Bakery 4.00 / 2.00, Dairy 35.00 / 20.20, Empty shelf 0 / 0, no category
20.00 / 8.00. By location: Back room 15.50 / 8.50, Main 43.50 / 21.70; in all 59.00 / 30.20.
Sales (fulfilled): 2 MILK at 1.50 two days ago (3.00, cost 1.80, margin 1.20) and 1 BREAD at
2.00 nine days ago (2.00, cost 1.00, margin 1.00).

The Quokka Shop has one of everything too (a low, expiring product, a location, a category, a
sale), every name holding "quokka": a page of the Corner Shop must never show that word.
"""

import datetime
from decimal import Decimal

from core.dates import local_today
from orders.services import OrderItem
from sales import services as sales_services
from sales.models import SalesOrder, SalesOrderItem
from stock import services as stock_services
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from users.models import Role

MARKER = "quokka"


def days_ago(days: int, *, hour: int = 12) -> datetime.datetime:
    day = local_today(None) - datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def sell(organization, user, product, quantity: int, *, on: datetime.datetime) -> SalesOrder:
    """A sale fulfilled through the service (stock out, cost of goods recorded), dated `on`
    (the test's clock: the service stamps now)."""
    order = sales_services.create_sales_order(
        organization=organization,
        user=user,
        items=[OrderItem(product, quantity)],
        status=SalesOrder.Status.FULFILLED,
    )
    SalesOrder.objects.filter(pk=order.pk).update(fulfilled_at=on)
    return order


def build_corner_shop(organization, user) -> dict:
    """The Corner Shop of the module's docstring; `user` (its manager) records everything."""
    org = {"organization": organization}
    dairy = CategoryFactory(**org, name="Dairy")
    bakery = CategoryFactory(**org, name="Bakery")
    CategoryFactory(**org, name="Empty shelf")
    main = stock_services.default_location(organization_id=organization.pk)
    back_room = stock_services.create_location(**org, name="Back room")

    def stocked(quantity, **fields):
        product = ProductFactory(**org, **fields)
        stock_services.record_initial_stock(product=product, quantity=quantity, user=user)
        return product

    milk = stocked(20, sku="MILK", name="Milk 1 L", category=dairy, price="1.50",
                   cost_price="0.90", low_stock_threshold=2)  # fmt: skip
    stock_services.transfer_stock(product=milk, from_location=main, to_location=back_room,
                                  quantity=5, user=user)  # fmt: skip
    bread = stocked(3, sku="BREAD", name="Sourdough bread", category=bakery, price="2.00",
                    cost_price="1.00", low_stock_threshold=5)  # fmt: skip
    yoghurt = ProductFactory(**org, sku="YOG", name="Yoghurt", category=dairy, price="0.80",
                             track_lots=True)  # fmt: skip
    stock_services.record_movement(
        product=yoghurt, movement_type="IN", quantity=10, user=user, location=back_room,
        lot_code="L1", expiration_date=local_today(None) + datetime.timedelta(days=3),
        unit_cost=Decimal("0.40"),
    )  # fmt: skip
    candle = stocked(4, sku="CANDLE", name="Candle", price="5.00", cost_price="2.00")
    sell(organization, user, milk, 2, on=days_ago(2))
    sell(organization, user, bread, 1, on=days_ago(9))
    return {"milk": milk, "bread": bread, "yoghurt": yoghurt, "candle": candle,
            "main": main, "back_room": back_room}  # fmt: skip


def build_quokka_shop(organization) -> dict:
    """Another organization's shop: low, expiring, sold; every name says "quokka"."""
    owner = UserFactory(username="quokka-oscar", organization=organization, role=Role.ADMIN,
                        admin_access=True)  # fmt: skip
    org = {"organization": organization}
    category = CategoryFactory(**org, name="Quokka dairy")
    yard = stock_services.create_location(**org, name="Quokka yard")
    cheese = ProductFactory(**org, sku="QUOKKA-CHEESE", name="Quokka cheese", category=category,
                            price="900.00", low_stock_threshold=500)  # fmt: skip
    stock_services.record_movement(
        product=cheese, movement_type="IN", quantity=40, user=owner, location=yard,
        unit_cost=Decimal("300.00"),
    )  # fmt: skip
    main = stock_services.default_location(organization_id=organization.pk)
    stock_services.transfer_stock(product=cheese, from_location=yard, to_location=main,
                                  quantity=10, user=owner)  # fmt: skip
    soon = local_today(organization.pk) + datetime.timedelta(days=2)
    cream = ProductFactory(**org, sku="QUOKKA-CREAM", name="Quokka cream", price="700.00",
                           expiration_date=soon)  # fmt: skip
    stock_services.record_initial_stock(product=cream, quantity=6, user=owner)
    sell(organization, owner, cheese, 3, on=days_ago(2))
    return {"owner": owner, "cheese": cheese, "cream": cream, "yard": yard}


def sales_order(organization, *, number, status, fulfilled_at=None, lines=()):
    """An order as the service leaves it: lines of (product, quantity, unit price, unit cost);
    a fulfilled line with its cost of goods (quantity * unit cost, to the cent)."""
    order = SalesOrder.objects.create(
        organization=organization,
        number=number,
        status=status,
        fulfilled_at=fulfilled_at,
        location=stock_services.default_location(organization_id=organization.pk),
    )
    for product, quantity, unit_price, *cost in lines:
        unit_cost = Decimal(cost[0] if cost else "0") if status == "fulfilled" else None
        SalesOrderItem.objects.create(
            order=order,
            product=product,
            quantity=quantity,
            unit_price=unit_price,
            unit_cost=unit_cost,
            line_cost=None
            if unit_cost is None
            else (quantity * unit_cost).quantize(Decimal("0.01")),
        )
    return order
