"""A realistic demo shop for the README's screenshots: a delicatessen with six categories,
three locations, twenty-odd products received from suppliers at their costs (lots with expiry
for the fresh goods), some of them low, some expiring, and twelve weeks of sales. Everything
goes through the services, as the shop would do it; only the sales orders' dates are set
afterwards, for the sales chart (the services stamp "now", and so does the ledger, which
stays append-only). Deterministic: the same figures on every run."""

import datetime
import random
from decimal import Decimal

from core.dates import local_today
from orders.services import DocumentLine, OrderItem
from purchases import services as purchase_services
from sales import services as sales_services
from sales.models import SalesOrder
from stock import services as stock_services
from stock.models import StockLevel
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

# (category, SKU, name, price, cost, quantity received, low-stock threshold, lot expiry in days)
CATALOGUE = [
    ("Dairy", "MLK-1L", "Whole milk 1 L", "1.29", "0.78", 120, 30, None),
    ("Dairy", "YOG-GR500", "Greek yoghurt 500 g", "2.89", "1.52", 60, 12, 4),
    ("Dairy", "BUT-250", "Salted butter 250 g", "2.49", "1.61", 48, 10, None),
    ("Dairy", "CHE-CMT", "Comté 18 months, 200 g", "6.90", "4.15", 30, 6, 6),
    ("Bakery", "BRD-SOUR", "Sourdough loaf", "4.20", "1.90", 40, 50, None),
    ("Bakery", "CRS-BUT", "Butter croissant", "1.45", "0.55", 80, 20, 2),
    ("Bakery", "BAG-SES", "Sesame bagel", "0.95", "0.32", 60, 10, None),
    ("Produce", "APL-GAL", "Gala apples, 1 kg", "2.99", "1.40", 70, 15, None),
    ("Produce", "TOM-VINE", "Vine tomatoes, 500 g", "2.39", "1.10", 50, 40, 5),
    ("Produce", "AVO-RIPE", "Ripe avocado", "1.19", "0.62", 40, 60, None),
    ("Drinks", "COF-ESP", "Espresso beans 1 kg", "18.50", "10.90", 25, 5, None),
    ("Drinks", "TEA-EARL", "Earl Grey, 50 bags", "4.75", "2.05", 30, 6, None),
    ("Drinks", "JUI-ORA", "Fresh orange juice 1 L", "3.60", "1.85", 45, 10, 7),
    ("Drinks", "WAT-SPK", "Sparkling water 6 x 1.5 L", "3.99", "2.20", 40, 8, None),
    ("Pantry", "OIL-OLV", "Extra virgin olive oil 750 ml", "9.80", "5.60", 36, 6, None),
    ("Pantry", "PAS-SPG", "Spaghetti 500 g", "1.69", "0.74", 90, 20, None),
    ("Pantry", "HON-WLD", "Wildflower honey 400 g", "7.40", "4.10", 24, 5, None),
    ("Pantry", "CHO-DRK", "Dark chocolate 70%, 100 g", "2.65", "1.20", 60, 12, None),
    ("Household", "DSH-LIQ", "Dish soap 500 ml", "2.10", "0.95", 30, 5, None),
    ("Household", "CND-SOY", "Soy candle", "12.00", "4.80", 12, 18, None),
    ("Household", "BAG-TOT", "Cotton tote bag", "6.50", "2.10", 20, 4, None),
]


def days_ago(days: int, hour: int) -> datetime.datetime:
    day = local_today(None) - datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def build_deli(organization, user) -> dict:
    """The Harbour Deli: received, sold and moved as a shop would; returns its products by
    SKU and its locations."""
    org = {"organization": organization}
    floor = stock_services.default_location(organization_id=organization.pk)
    floor = stock_services.update_location(location=floor, name="Shop floor")
    back_room = stock_services.create_location(**org, name="Back room")
    warehouse = stock_services.create_location(**org, name="Warehouse", code="WH")
    fresh = SupplierFactory(**org, name="Valley Farm Co-op")
    dry = SupplierFactory(**org, name="Northern Wholesale")
    names = dict.fromkeys(category for category, *_ in CATALOGUE)
    categories = {name: CategoryFactory(**org, name=name) for name in names}
    products, lots = {}, []
    for category, sku, name, price, cost, received, threshold, expiry in CATALOGUE:
        products[sku] = ProductFactory(
            **org, sku=sku, name=name, category=categories[category], price=price,
            cost_price=cost, low_stock_threshold=threshold, track_lots=expiry is not None,
            supplier=fresh if category in ("Dairy", "Bakery", "Produce") else dry,
        )  # fmt: skip
        if expiry is not None:
            lots.append((products[sku], received, Decimal(cost), expiry))
    # Deliveries: the dry goods on purchase orders received at the warehouse,
    # the fresh ones at the shop floor, twice their quantity; the fresh goods in lots (an older
    # lot on the floor that expires soon, a fresher one in the back room).
    for supplier, location in ((dry, warehouse), (fresh, floor)):
        items = [
            OrderItem(product, received * 2, Decimal(cost))
            for _, sku, _, _, cost, received, _, expiry in CATALOGUE
            if expiry is None and (product := products[sku]).supplier_id == supplier.pk
        ]
        purchase_services.create_purchase_order(
            **org, user=user, supplier=supplier, items=items, location=location,
            status="received", notes="Opening delivery",
        )  # fmt: skip
    for product, received, cost, expiry in lots:
        older, fresher = received // 3, received - received // 3
        for code, quantity, days, unit_cost in (
            ("A1", older, expiry, cost * Decimal("0.95")),
            ("B2", fresher, expiry + 9, cost),
        ):
            stock_services.record_movement(
                product=product, movement_type="IN", quantity=quantity, user=user,
                location=back_room if code == "B2" else floor, lot_code=f"{product.sku}-{code}",
                expiration_date=local_today(None) + datetime.timedelta(days=days),
                unit_cost=unit_cost.quantize(Decimal("0.0001")), note="Morning delivery",
            )  # fmt: skip
    # Half of the dry goods go to the shop floor.
    for _, sku, _, _, _, received, _, expiry in CATALOGUE:
        if expiry is None and products[sku].supplier_id == dry.pk:
            stock_services.transfer_stock(
                product=products[sku], from_location=warehouse, to_location=floor,
                quantity=received, user=user,
            )  # fmt: skip
    _sell_for_twelve_weeks(organization, user, products, floor)
    stock_services.record_movement(
        product=products["BUT-250"], movement_type="OUT", quantity=2, user=user, location=floor,
        note="Damaged in the fridge",
    )  # fmt: skip
    stock_services.record_movement(
        product=products["YOG-GR500"], movement_type="ADJUST", quantity=11, user=user,
        location=floor, lot_code="YOG-GR500-A1", note="Stocktake",
    )  # fmt: skip
    return {"products": products, "floor": floor, "back_room": back_room, "warehouse": warehouse}


def _sell_for_twelve_weeks(organization, user, products, floor) -> None:
    """About two or three orders a day, busier at the weekend and growing week by week, of what
    the shop floor has; each fulfilled through the service, then dated."""
    chance = random.Random(15)
    on_floor = {}
    for level in StockLevel.objects.filter(location=floor, quantity__gt=0):
        on_floor[level.product_id] = on_floor.get(level.product_id, 0) + level.quantity
    everyday = [p for p in products.values() if p.pk in on_floor]
    days_in_any_order = list(range(84))  # so that what runs out runs out on any day
    chance.shuffle(days_in_any_order)
    for days in days_in_any_order:
        day = local_today(None) - datetime.timedelta(days=days)
        busy = 1.6 if day.weekday() >= 5 else 1.0
        for _ in range(round(chance.uniform(1, 3) * busy * (1 + (83 - days) / 160))):
            items = []
            for product in chance.sample(everyday, k=chance.randint(1, 3)):
                quantity = chance.choice((1, 1, 1, 2, 3))
                if on_floor.get(product.pk, 0) - quantity < 3:
                    continue
                on_floor[product.pk] -= quantity
                items.append(OrderItem(product, quantity))
            if not items:
                continue
            order = sales_services.create_sales_order(
                organization=organization, user=user, items=items, status="fulfilled",
                customer_name=chance.choice(("", "", "Café Marée", "J. Lindqvist", "The Pier")),
            )  # fmt: skip
            when = days_ago(days, chance.randint(8, 19))
            SalesOrder.objects.filter(pk=order.pk).update(fulfilled_at=when, created_at=when)
            if chance.random() < 0.25:  # a customer brings something back a day or two later
                _bring_back(order, user, chance, on=days_ago(max(days - 2, 0), 17))


def _bring_back(order, user, chance, *, on) -> None:
    """A return of part of an order's first line: back on the shelf, or spoiled (not)."""
    line = order.items.order_by("id").first()
    returned = sales_services.record_customer_return(
        order=order, user=user, restock=chance.random() < 0.6,
        lines=[DocumentLine(line.pk, chance.randint(1, line.quantity))],
    )  # fmt: skip
    type(returned).objects.filter(pk=returned.pk).update(created_at=on)
