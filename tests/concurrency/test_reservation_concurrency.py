"""Real threads against PostgreSQL: reservations never promise more than there is.

Confirming reserves under the product locks (stock.services.Books.of, in id order) and the
order's row lock decides which of two status moves happens: remove either and these fail
(more confirmed than the stock, `allocated` above `quantity`, a reservation both consumed and
released).
"""

import pytest

from inventory.models import Product
from orders.services import OrderItem
from sales.models import Reservation, SalesOrder
from sales.services import (
    cancel_sales_order,
    confirm_sales_order,
    create_sales_order,
    fulfil_sales_order,
    update_sales_order,
)
from stock import services
from stock.models import StockLevel, StockMovement
from stock.selectors import ledger_mismatches
from tests.support.api import client_for
from tests.support.concurrency import run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def pending_orders(organization, user, product, count, quantity=1):
    return [
        create_sales_order(
            organization=organization,
            user=user,
            items=[OrderItem(product, quantity)],
        )
        for _ in range(count)
    ]


def patch_status(client, order, status):
    return client.patch(f"/api/sales-orders/{order.pk}/", {"status": status}, format="json")


def test_one_hundred_confirmations_against_forty_units(stocked, organization, sales_user):
    product = stocked(quantity=40, organization=organization)
    orders = pending_orders(organization, sales_user, product, 100)
    clients = [client_for(sales_user) for _ in orders]

    results = run_concurrently(
        [
            lambda c=c, o=o: patch_status(c, o, "confirmed")
            for c, o in zip(clients, orders, strict=True)
        ]
    )

    assert status_codes(results) == {200: 40, 400: 60}
    assert SalesOrder.objects.filter(status="confirmed").count() == 40
    current = Product.objects.get(pk=product.pk)
    assert (current.quantity, current.allocated) == (40, 40)
    assert Reservation.objects.count() == 40
    assert ledger_mismatches() == []


def test_confirmations_racing_outs_and_transfers_never_overcommit_a_level(
    stocked, organization, manager_user
):
    main = services.default_location(organization_id=organization.pk)
    back = services.create_location(organization=organization, name="Back room")
    product = stocked(quantity=30, organization=organization)
    orders = pending_orders(organization, manager_user, product, 20, quantity=2)
    clients = [client_for(manager_user) for _ in range(40)]

    def out(client):
        return client.post(
            "/api/stock/movements/",
            {"product": product.pk, "movement_type": "OUT", "quantity": 2},
            format="json",
        )

    def transfer(client):
        return client.post(
            "/api/stock/transfers/",
            {"product": product.pk, "from_location": main.pk, "to_location": back.pk,
             "quantity": 2},
            format="json",
        )  # fmt: skip

    calls = [
        lambda c=clients[i], o=o: patch_status(c, o, "confirmed") for i, o in enumerate(orders)
    ]
    calls += [lambda c=clients[20 + i]: out(c) for i in range(10)]
    calls += [lambda c=clients[30 + i]: transfer(c) for i in range(10)]

    results = run_concurrently(calls)

    codes = status_codes(results)
    assert set(codes) <= {200, 201, 400}, codes
    confirmed = sum(1 for r in results[:20] if r.status_code == 200)
    taken = sum(1 for r in results[20:] if r.status_code == 201)
    assert 2 * (confirmed + taken) <= 30  # nothing promised or moved twice
    level = StockLevel.objects.get(product=product, location=main)
    assert level.allocated == 2 * confirmed <= level.quantity
    assert level.quantity == 30 - 2 * taken
    assert ledger_mismatches() == []


def test_fulfil_racing_cancel_of_one_confirmed_order(stocked, organization, manager_user):
    product = stocked(quantity=10, organization=organization)
    for _ in range(10):
        (confirmed,) = pending_orders(organization, manager_user, product, 1, quantity=3)
        update_sales_order(order=confirmed, user=manager_user, status="confirmed")
        fulfil, cancel = client_for(manager_user), client_for(manager_user)

        results = run_concurrently(
            [
                lambda c=fulfil, o=confirmed: patch_status(c, o, "fulfilled"),
                lambda c=cancel, o=confirmed: patch_status(c, o, "cancelled"),
            ]
        )

        assert sorted(r.status_code for r in results) == [200, 409]
        final = SalesOrder.objects.get(pk=confirmed.pk).status
        assert final in ("fulfilled", "cancelled")
        current = Product.objects.get(pk=product.pk)
        assert current.allocated == 0 and not Reservation.objects.exists()
        outs = StockMovement.objects.filter(reference=confirmed.reference).count()
        assert outs == (1 if final == "fulfilled" else 0)
        if final == "fulfilled":  # restock for the next round
            services.record_movement(product=product, movement_type="IN", quantity=3, user=None)
        assert current.quantity == (7 if final == "fulfilled" else 10)
        assert ledger_mismatches() == []


def test_the_named_status_actions_lock_the_order_themselves(stocked, organization, manager_user):
    """Called as a command, a task or another service calls them (no API request, no edit
    around them): `fulfil_sales_order` racing `cancel_sales_order` on one confirmed order,
    exactly one moves it; the other is refused (409) and nothing is taken or released twice."""
    product = stocked(quantity=10, organization=organization)
    for _ in range(5):
        (order,) = pending_orders(organization, manager_user, product, 1, quantity=3)
        confirm_sales_order(order=order, user=manager_user)

        results = run_concurrently(
            [
                lambda o=order: fulfil_sales_order(order=o, user=manager_user),
                lambda o=order: cancel_sales_order(order=o, user=manager_user),
            ]
        )

        assert sorted(type(result).__name__ for result in results) == ["Conflict", "SalesOrder"]
        final = SalesOrder.objects.get(pk=order.pk).status
        current = Product.objects.get(pk=product.pk)
        assert current.allocated == 0 and not Reservation.objects.exists()
        assert current.quantity == (7 if final == "fulfilled" else 10)
        assert ledger_mismatches() == []
        if final == "fulfilled":  # restock for the next round
            services.record_movement(product=product, movement_type="IN", quantity=3, user=None)
