"""Real threads against PostgreSQL: the stock figure stays right under concurrent requests.

Each test commits for real (`transaction=True`): a test transaction would hide a missing
`atomic()` or row lock. Threads call through the API, each on its own database connection
(closed in a `finally`, back to the pool of at most 20), and start together at a barrier.
A deadlock would surface as an exception (PostgreSQL breaks it after deadlock_timeout), a lost
update as a wrong quantity, an oversell as a negative stock or too many successes.
"""

import threading

import pytest
from django.db import connection

from inventory.models import Product
from orders.services import OrderItem
from purchases.models import PurchaseOrder
from sales.models import SalesOrder
from sales.services import create_sales_order
from stock.models import StockMovement
from stock.selectors import ledger_mismatches
from tests.factories import SupplierFactory
from tests.support.api import client_for
from tests.support.concurrency import JOIN_TIMEOUT, run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def assert_ledger_balances():
    assert list(ledger_mismatches()) == []


def test_one_hundred_one_unit_sales_against_forty_in_stock(stocked, organization, sales_user):
    """Fulfilling by PATCH takes no organization lock: only the product's row lock guards it."""
    product = stocked(quantity=40, organization=organization)
    orders = [
        create_sales_order(
            organization=organization,
            user=sales_user,
            items=[OrderItem(product, 1)],
        )
        for _ in range(100)
    ]
    clients = [client_for(sales_user) for _ in orders]

    results = run_concurrently(
        [
            lambda c=c, pk=order.pk: c.patch(
                f"/api/sales-orders/{pk}/", {"status": "fulfilled"}, format="json"
            )
            for c, order in zip(clients, orders, strict=True)
        ]
    )

    assert status_codes(results) == {200: 40, 400: 60}
    assert Product.objects.get(pk=product.pk).quantity == 0
    assert StockMovement.objects.filter(product=product, movement_type="OUT").count() == 40
    assert SalesOrder.objects.filter(status="fulfilled").count() == 40
    assert_ledger_balances()


def test_sales_created_as_fulfilled_never_oversell_nor_use_up_numbers(
    stocked, organization, sales_user
):
    product = stocked(quantity=10, organization=organization)
    clients = [client_for(sales_user) for _ in range(30)]
    body = {"items": [{"product": product.pk, "quantity": 1}], "status": "fulfilled"}

    results = run_concurrently(
        [lambda c=c: c.post("/api/sales-orders/", body, format="json") for c in clients]
    )

    assert status_codes(results) == {201: 10, 400: 20}
    assert Product.objects.get(pk=product.pk).quantity == 0
    # Refused orders rolled back with their numbers: the 10 orders are SO-00001..SO-00010.
    assert sorted(SalesOrder.objects.values_list("number", flat=True)) == list(range(1, 11))
    assert_ledger_balances()


def test_orders_naming_two_products_in_opposite_orders_never_deadlock(
    stocked, organization, sales_user
):
    a = stocked(quantity=1000, organization=organization)
    b = stocked(quantity=1000, organization=organization)
    client = client_for(sales_user)

    def lines(first, second):
        return [{"product": first.pk, "quantity": 1}, {"product": second.pk, "quantity": 2}]

    # Pending orders to fulfil by PATCH, half of them naming b first.
    pending = [
        client.post(
            "/api/sales-orders/", {"items": lines(*((a, b) if n % 2 else (b, a)))}, format="json"
        ).json()["id"]
        for n in range(20)
    ]
    calls = []
    for n in range(20):
        c = client_for(sales_user)
        order_lines = lines(*((a, b) if n % 2 else (b, a)))
        calls.append(
            lambda c=c, items=order_lines: c.post(
                "/api/sales-orders/", {"items": items, "status": "fulfilled"}, format="json"
            )
        )
        calls.append(
            lambda c=c, pk=pending[n]: c.patch(
                f"/api/sales-orders/{pk}/", {"status": "fulfilled"}, format="json"
            )
        )

    results = run_concurrently(calls)

    assert status_codes(results) == {201: 20, 200: 20}
    # Each of the 40 orders took 1 of the first product and 2 of the second, in either order.
    assert Product.objects.get(pk=a.pk).quantity + Product.objects.get(pk=b.pk).quantity == (
        2000 - 40 * 3
    )
    assert StockMovement.objects.filter(source="sales_order").count() == 80
    assert_ledger_balances()


def test_ten_concurrent_receives_of_one_purchase_order_add_its_stock_once(
    stocked, organization, manager_user
):
    a = stocked(quantity=3, organization=organization)
    b = stocked(quantity=0, organization=organization)
    supplier = SupplierFactory(organization=organization)
    client = client_for(manager_user)
    response = client.post(
        "/api/purchase-orders/",
        {
            "supplier": supplier.pk,
            "status": "submitted",
            "items": [
                {"product": a.pk, "quantity": 7, "unit_cost": "1.00"},
                {"product": b.pk, "quantity": 5, "unit_cost": "2.00"},
            ],
        },
        format="json",
    )
    order_id = response.json()["id"]
    clients = [client_for(manager_user) for _ in range(10)]

    results = run_concurrently(
        [
            lambda c=c: c.patch(
                f"/api/purchase-orders/{order_id}/", {"status": "received"}, format="json"
            )
            for c in clients
        ]
    )

    assert status_codes(results) == {200: 1, 409: 9}
    assert [Product.objects.get(pk=p.pk).quantity for p in (a, b)] == [10, 5]
    assert StockMovement.objects.filter(source="purchase_order").count() == 2
    assert PurchaseOrder.objects.get(pk=order_id).status == "received"
    assert_ledger_balances()


def test_concurrent_creation_numbers_orders_without_gaps_or_collisions(
    stocked, organization, admin_user
):
    product = stocked(quantity=0, organization=organization)
    supplier = SupplierFactory(organization=organization)
    po = {
        "supplier": supplier.pk,
        "items": [{"product": product.pk, "quantity": 1, "unit_cost": "1"}],
    }
    so = {"items": [{"product": product.pk, "quantity": 1}]}
    calls = []
    for _ in range(15):
        c = client_for(admin_user)
        calls.append(lambda c=c: c.post("/api/purchase-orders/", po, format="json"))
        calls.append(lambda c=c: c.post("/api/sales-orders/", so, format="json"))

    results = run_concurrently(calls)

    assert status_codes(results) == {201: 30}
    expected = list(range(1, 16))
    assert sorted(PurchaseOrder.objects.values_list("number", flat=True)) == expected
    assert sorted(SalesOrder.objects.values_list("number", flat=True)) == expected


def test_manual_movements_lose_no_update(stocked, organization, manager_user):
    product = stocked(quantity=50, organization=organization)
    calls = []
    for n in range(60):
        c = client_for(manager_user)
        body = {"product": product.pk, "movement_type": "IN" if n % 2 else "OUT", "quantity": 1}
        calls.append(lambda c=c, body=body: c.post("/api/stock/movements/", body, format="json"))

    results = run_concurrently(calls)

    assert status_codes(results) == {201: 60}
    assert Product.objects.get(pk=product.pk).quantity == 50
    balances = list(
        StockMovement.objects.filter(product=product)
        .order_by("id")
        .values_list("delta", "balance_after")
    )
    running = 0
    for delta, balance_after in balances:  # every balance follows from the one before
        running += delta
        assert balance_after == running
    assert_ledger_balances()


def test_creating_an_order_does_not_wait_for_a_stock_change_in_progress(
    stocked, organization, sales_user
):
    """The stock lock is FOR NO KEY UPDATE: it does not block the FOR KEY SHARE that inserting
    an order line takes on the product. (A FOR UPDATE lock would, and an order created with its
    lines in the client's order could then deadlock against a fulfilment.)"""
    from django.db import transaction

    from stock.services import lock_products

    product = stocked(quantity=5, organization=organization)
    locked, release = threading.Event(), threading.Event()

    def hold_the_stock_lock():
        try:
            with transaction.atomic():
                lock_products([product.pk])
                locked.set()
                release.wait(timeout=JOIN_TIMEOUT)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_stock_lock, daemon=True)
    holder.start()
    assert locked.wait(timeout=JOIN_TIMEOUT)
    client = client_for(sales_user)
    body = {"items": [{"product": product.pk, "quantity": 1}]}
    answers = []

    def create_order():
        try:
            answers.append(client.post("/api/sales-orders/", body, format="json"))
        finally:
            connection.close()

    creator = threading.Thread(target=create_order, daemon=True)
    creator.start()
    creator.join(timeout=5)
    answered_while_locked = not creator.is_alive()
    release.set()
    holder.join(timeout=JOIN_TIMEOUT)
    creator.join(timeout=JOIN_TIMEOUT)
    assert answered_while_locked, "creating an order waited for the stock lock"
    assert [a.status_code for a in answers] == [201]
