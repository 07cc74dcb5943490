"""Real threads against PostgreSQL: receipts and returns never move more than a line allows.

A receipt or a return checks what is left of its line under the order's row lock
(orders.services.lock_order): without it, concurrent receipts of the last units each see them
still to come and receive them twice (the CheckConstraint `received_quantity <= quantity` then
turns the overflow into errors instead of silently wrong stock).
"""

import pytest

from inventory.models import Product
from orders.services import DocumentLine, OrderItem
from purchases.services import create_purchase_order, record_receipt
from sales.services import create_sales_order
from stock.models import StockMovement
from stock.selectors import ledger_mismatches
from tests.factories import ProductFactory, SupplierFactory
from tests.support.api import client_for
from tests.support.concurrency import run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_concurrent_receipts_of_the_last_five_units(organization, manager_user):
    product = ProductFactory(organization=organization)
    order = create_purchase_order(
        organization=organization, user=manager_user, supplier=SupplierFactory(
            organization=organization), items=[OrderItem(product, 8, "1.00")],
    )  # fmt: skip
    item = order.items.get()
    record_receipt(order=order, user=manager_user, lines=[DocumentLine(item.pk, 3)])
    clients = [client_for(manager_user) for _ in range(10)]
    body = {"lines": [{"item": item.pk, "quantity": 1}]}

    results = run_concurrently(
        [
            lambda c=c: c.post(f"/api/purchase-orders/{order.pk}/receipts/", body, format="json")
            for c in clients
        ]
    )

    codes = status_codes(results)
    assert codes[201] == 5 and set(codes) <= {201, 400, 409}, codes
    item.refresh_from_db()
    assert item.received_quantity == 8
    assert Product.objects.get(pk=product.pk).quantity == 8
    assert StockMovement.objects.filter(reference=order.reference).count() == 6
    assert ledger_mismatches() == []


def test_ten_concurrent_returns_of_a_three_unit_line(stocked, organization, sales_user):
    product = stocked(quantity=10, organization=organization)
    order = create_sales_order(
        organization=organization, user=sales_user, status="fulfilled",
        items=[OrderItem(product, 3)],
    )  # fmt: skip
    item = order.items.get()
    clients = [client_for(sales_user) for _ in range(10)]
    body = {"lines": [{"item": item.pk, "quantity": 1}]}

    results = run_concurrently(
        [
            lambda c=c: c.post(f"/api/sales-orders/{order.pk}/returns/", body, format="json")
            for c in clients
        ]
    )

    assert status_codes(results) == {201: 3, 400: 7}
    item.refresh_from_db()
    assert item.returned_quantity == 3
    assert Product.objects.get(pk=product.pk).quantity == 10
    assert StockMovement.objects.filter(source="customer_return").count() == 3
    assert ledger_mismatches() == []
