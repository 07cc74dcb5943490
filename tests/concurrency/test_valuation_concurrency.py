"""Real threads against PostgreSQL: the average cost never loses an update.

Concurrent deliveries at different costs and sales of one product: afterwards the product's
average cost is what replaying its ledger in commit order gives, every OUT recorded the
average of its moment, and every sold line the cost of its OUT. The product's row lock
(stock.services.lock_products, taken by Books.of) is what makes it so: with a plain read in its
place, two deliveries read the same quantity and average and one of them is lost (the replay
and the ledger's invariants both fail).
"""

import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from inventory.models import Product
from sales.models import SalesOrderItem
from stock.models import StockMovement
from stock.selectors import ledger_mismatches
from tests.support.api import client_for
from tests.support.concurrency import run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def replay(product) -> Decimal:
    """The average cost by API.md's rule, from the movements in the order they committed (ids
    are taken under the product's lock); checks each movement's recorded cost on the way."""
    average = Decimal(0)
    for delta, balance, unit_cost, kind in (
        StockMovement.objects.filter(product=product)
        .order_by("id")
        .values_list("delta", "balance_after", "unit_cost", "movement_type")
    ):
        if delta > 0:
            weighted = (balance - delta) * average + delta * unit_cost
            average = (weighted / balance).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
        else:
            assert unit_cost == average, (kind, delta, unit_cost, average)
    return average


def test_concurrent_deliveries_and_sales_keep_the_average(stocked, organization, manager_user):
    product = stocked(quantity=20, organization=organization, price="5.00", cost_price="1.00")
    pick = random.Random(13)
    deliveries = [
        {"product": product.pk, "movement_type": "IN", "quantity": pick.randint(1, 9),
         "unit_cost": f"{pick.randint(50, 400) / 100:.2f}"}
        for _ in range(24)
    ]  # fmt: skip
    sale = {"items": [{"product": product.pk, "quantity": 2}], "status": "fulfilled"}
    plan = [("/api/stock/movements/", body) for body in deliveries]
    plan += [("/api/sales-orders/", sale)] * 16
    pick.shuffle(plan)
    clients = [client_for(manager_user) for _ in plan]

    results = run_concurrently(
        [
            lambda c=c, path=path, body=body: c.post(path, body, format="json")
            for c, (path, body) in zip(clients, plan, strict=True)
        ]
    )

    assert status_codes(results) == {201: len(plan)}
    product = Product.objects.get(pk=product.pk)
    assert product.average_cost == replay(product)
    assert product.quantity == 20 + sum(d["quantity"] for d in deliveries) - 16 * 2
    sold = SalesOrderItem.objects.filter(product=product)
    for line in sold.select_related("order"):
        (movement,) = StockMovement.objects.filter(reference=line.order.reference)
        assert line.unit_cost == movement.unit_cost
        assert line.line_cost == (2 * movement.unit_cost).quantize(Decimal("0.01"))
    assert ledger_mismatches(organization_id=organization.pk) == []
