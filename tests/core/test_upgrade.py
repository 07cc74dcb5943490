"""Upgrading a database of the previous release: `migrate` alone moves its data into this
release's shape (locations, counters, written emails) and the ledger's invariants hold."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The last migration of each app in the release before locations, outbox and counters.
PREVIOUS_RELEASE = [
    ("users", "0002_role_groups"),
    ("inventory", "0006_product_list_indexes"),
    ("suppliers", "0001_initial"),
    ("stock", "0001_initial"),
    ("purchases", "0002_initial"),
    ("sales", "0001_initial"),
    ("alerts", "0001_initial"),
    ("core", None),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    named = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(named).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def seed_previous_release(apps):
    """A shop as the previous release left it: stock with its ledger, orders, sent alerts."""
    Organization = apps.get_model("users", "Organization")
    User = apps.get_model("users", "User")
    Product = apps.get_model("inventory", "Product")
    Movement = apps.get_model("stock", "StockMovement")
    Supplier = apps.get_model("suppliers", "Supplier")
    PurchaseOrder = apps.get_model("purchases", "PurchaseOrder")
    SalesOrder = apps.get_model("sales", "SalesOrder")
    AlertLog = apps.get_model("alerts", "AlertLog")
    shop = Organization.objects.create(name="Old Shop")
    empty = Organization.objects.create(name="Empty Shop")
    owner = User.objects.create(username="old-owner", organization=shop)
    products = []
    for n, (stock, sold, cost) in enumerate([(10, 4, "1.25"), (5, 0, None), (0, 0, "3.00")]):
        product = Product.objects.create(
            organization=shop, sku=f"OLD-{n}", name=f"Old {n}", price="2.00",
            quantity=stock - sold, cost_price=cost,
        )  # fmt: skip
        if stock:
            Movement.objects.create(
                organization=shop, product=product, movement_type="IN", quantity=stock,
                delta=stock, balance_after=stock, source="initial", performed_by=owner,
            )  # fmt: skip
        if sold:
            Movement.objects.create(
                organization=shop, product=product, movement_type="OUT", quantity=sold,
                delta=-sold, balance_after=stock - sold, source="sales_order",
                reference="SO-00003",
            )  # fmt: skip
        products.append(product)
    supplier = Supplier.objects.create(organization=shop, name="Acme")
    PurchaseOrder.objects.create(organization=shop, number=7, supplier=supplier)
    received = PurchaseOrder.objects.create(
        organization=shop, number=6, supplier=supplier, status="received"
    )
    apps.get_model("purchases", "PurchaseOrderItem").objects.create(
        order=received, product=products[1], quantity=5, unit_cost="1.00"
    )
    Line = apps.get_model("sales", "SalesOrderItem")
    # SO-00003 sold 4 of OLD-0 (the OUT above); SO-00004 waits for 3.
    for number, status, sold in ((1, "fulfilled", 0), (3, "fulfilled", 4), (4, "pending", 3)):
        order = SalesOrder.objects.create(organization=shop, number=number, status=status)
        if sold:
            Line.objects.create(order=order, product=products[0], quantity=sold, unit_price="2")
    yesterday = timezone.now() - datetime.timedelta(days=1)
    for kind in ("daily_digest", "daily_digest", "low_stock"):
        log = AlertLog.objects.create(organization=shop, kind=kind, subject="s", recipients=[])
        AlertLog.objects.filter(pk=log.pk).update(created_at=yesterday)
    return shop, empty


@pytest.mark.django_db(transaction=True)
def test_migrate_moves_a_previous_release_database_into_this_release():
    from stock.selectors import ledger_mismatches

    apps = migrate(PREVIOUS_RELEASE)
    try:
        shop, empty = seed_previous_release(apps)

        apps = migrate(latest())

        Location = apps.get_model("stock", "Location")
        Level = apps.get_model("stock", "StockLevel")
        Movement = apps.get_model("stock", "StockMovement")
        Counter = apps.get_model("core", "Counter")
        AlertLog = apps.get_model("alerts", "AlertLog")
        for organization in (shop, empty):  # every organization has its default location
            (main,) = Location.objects.filter(organization_id=organization.pk, is_default=True)
            assert main.name == "Main"
        main = Location.objects.get(organization_id=shop.pk)
        levels = Level.objects.filter(product__organization_id=shop.pk).order_by("product__sku")
        assert [(lv.product.sku, lv.location_id, lv.lot_id, lv.quantity) for lv in levels] == [
            ("OLD-0", main.pk, None, 6),
            ("OLD-1", main.pk, None, 5),
        ]
        assert set(Movement.objects.values_list("location_id", flat=True)) == {main.pk}
        assert ledger_mismatches() == []
        # Numbering goes on from the highest number, per kind.
        counters = dict(
            Counter.objects.filter(organization_id=shop.pk).values_list("kind", "last_number")
        )
        assert counters == {"PO": 7, "SO": 4}
        # Stock, movements and sold lines are valued at the product's cost_price, else 0.
        Product = apps.get_model("inventory", "Product")
        assert dict(Product.objects.values_list("sku", "average_cost")) == {
            "OLD-0": Decimal("1.2500"),
            "OLD-1": Decimal("0.0000"),
            "OLD-2": Decimal("3.0000"),
        }
        assert sorted(Movement.objects.values_list("product__sku", "delta", "unit_cost")) == [
            ("OLD-0", -4, Decimal("1.2500")),
            ("OLD-0", 10, Decimal("1.2500")),
            ("OLD-1", 5, Decimal("0.0000")),
        ]
        sold = apps.get_model("sales", "SalesOrderItem").objects.order_by("order__number")
        assert [(line.quantity, line.unit_cost, line.line_cost) for line in sold] == [
            (4, Decimal("1.2500"), Decimal("5.00")),  # fulfilled: its cost of goods sold
            (3, None, None),  # pending: valued when it is fulfilled
        ]
        # An order received before receipts existed received every line in full.
        lines = apps.get_model("purchases", "PurchaseOrderItem").objects.all()
        assert [(line.quantity, line.received_quantity) for line in lines] == [(5, 5)]
        for model in ("purchases.PurchaseOrder", "sales.SalesOrder"):
            orders = apps.get_model(model)
            assert set(orders.objects.values_list("location_id", flat=True)) == {main.pk}
        # Emails of the previous release were all sent; a day has one unforced digest.
        logs = AlertLog.objects.order_by("id")
        assert [(log.kind, log.sent_at is not None, log.forced) for log in logs] == [
            ("digest", True, False),
            ("digest", True, True),
            ("crossing", True, False),
        ]
    finally:
        migrate(latest())


# The release before organizations had their own time zone and currency (issue 23).
BEFORE_LOCAL_TIME = [
    ("users", "0004_password_reset_requests"),
    ("sales", "0009_line_cost_constraint"),
]


@pytest.mark.django_db(transaction=True)
def test_migrate_gives_organizations_the_defaults_and_return_lines_their_sales_cost(settings):
    settings.DEFAULT_TIME_ZONE, settings.DEFAULT_CURRENCY = "Europe/Paris", "EUR"
    apps = migrate(BEFORE_LOCAL_TIME)
    try:
        shop = apps.get_model("users", "Organization").objects.create(name="Old Shop")
        location = apps.get_model("stock", "Location").objects.create(
            organization=shop, name="Main", is_default=True
        )
        product = apps.get_model("inventory", "Product").objects.create(
            organization=shop, sku="OLD", name="Old", price="2.00"
        )
        order = apps.get_model("sales", "SalesOrder").objects.create(
            organization=shop, number=1, status="fulfilled", location=location
        )
        item = apps.get_model("sales", "SalesOrderItem").objects.create(
            order=order, product=product, quantity=5, unit_price="2.00", unit_cost="0.7833",
            line_cost="3.92", returned_quantity=3,
        )  # fmt: skip
        returned = apps.get_model("sales", "CustomerReturn").objects.create(
            organization=shop, number=1, sales_order=order, location=location
        )
        apps.get_model("sales", "CustomerReturnLine").objects.create(
            customer_return=returned, item=item, quantity=3, unit_price="2.00"
        )

        apps = migrate(latest())

        shop = apps.get_model("users", "Organization").objects.get(pk=shop.pk)
        assert (shop.time_zone, shop.currency, shop.digest_hour) == ("Europe/Paris", "EUR", 7)
        line = apps.get_model("sales", "CustomerReturnLine").objects.get()
        assert (line.unit_cost, line.line_cost) == (Decimal("0.7833"), Decimal("2.35"))
    finally:
        migrate(latest())
