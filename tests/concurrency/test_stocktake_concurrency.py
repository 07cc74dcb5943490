"""Real threads against PostgreSQL: stocktakes never lose or double a unit.

- A count records the books' quantity under the product's row lock (stock.services'
  `lock_products`, id order): a sale that holds the product when the count comes is in the
  expected quantity, so the difference does not take it out a second time.
- Completing applies the differences under the product locks (`apply_counted_differences`:
  `Books.of`), so a sale, receipt or transfer racing the completion is neither lost nor undone.
- Completing locks the stocktake's row (`FOR NO KEY UPDATE`): two completions post once.
"""

import random

import pytest

from inventory.models import Product
from orders.services import OrderItem
from sales.services import confirm_sales_order, create_sales_order
from stock import services
from stock.models import StockLevel, StockMovement
from stock.selectors import ledger_mismatches
from stock.services.books import Books
from stocktakes.models import Stocktake, StocktakeLine
from stocktakes.services import LineCount, count_lines, create_stocktake
from tests.support.api import client_for
from tests.support.concurrency import HOLD, Pause, Request, run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/stocktakes/"


def out(client, product, quantity, location=None):
    body = {"product": product.pk, "movement_type": "OUT", "quantity": quantity}
    if location is not None:
        body["location"] = location.pk
    return client.post("/api/stock/movements/", body, format="json")


def stock_at(product, location) -> int:
    return sum(
        StockLevel.objects.filter(product=product, location=location).values_list(
            "quantity", flat=True
        )
    )


def test_a_sale_holding_the_product_when_it_is_counted_is_in_the_expected_quantity(
    monkeypatch, stocked, organization, manager_user, sales_user
):
    """10 on the books; a sale of 3 has left the shelf and holds the product's lock, not yet
    committed, when the shelf is counted (7). Without the count's product lock the count read
    10 as expected: completing took the 3 out a second time (4 left, not 7)."""
    tea = stocked(quantity=10, organization=organization)
    main = services.default_location(organization_id=organization.pk)
    stocktake = create_stocktake(organization=organization, location=main, user=manager_user)
    seller, counter = client_for(manager_user), client_for(sales_user)
    pause = Pause(monkeypatch, Books, "close", when=lambda books: books.entry.source == "manual")

    sale = Request(lambda: out(seller, tea, 3))
    pause.wait_until_reached()  # the OUT is written, the product locked, not committed
    count = Request(
        lambda: counter.post(
            f"{URL}{stocktake.pk}/counts/",
            {"lines": [{"product": tea.pk, "counted_quantity": 7}]},
            format="json",
        )
    )
    count.join(timeout=HOLD)  # it waits for the sale's lock (or wrongly reads the old books)
    pause.release()

    assert sale.answer().status_code == 201
    assert count.answer().status_code == 200
    line = StocktakeLine.objects.get(stocktake=stocktake, product=tea)
    assert (line.expected_quantity, line.counted_quantity) == (7, 7)
    done = client_for(manager_user).post(f"{URL}{stocktake.pk}/complete/")
    assert done.status_code == 200, done.json()
    assert Product.objects.get(pk=tea.pk).quantity == 7
    assert ledger_mismatches() == []


def test_a_sale_racing_the_completion_stays_in_the_books(
    monkeypatch, stocked, organization, manager_user
):
    """The completion has applied its difference in memory, under the product locks, when a
    sale comes: the sale waits, then takes from the corrected stock. Without the completion's
    product locks the sale committed meanwhile and the completion wrote its stale figures over
    it (the sale lost, the ledger no longer balancing)."""
    tea = stocked(quantity=10, organization=organization)
    main = services.default_location(organization_id=organization.pk)
    stocktake = create_stocktake(organization=organization, location=main, user=manager_user)
    count_lines(stocktake=stocktake, counts=[LineCount(tea.pk, 12)], user=manager_user)  # +2
    completer, seller = client_for(manager_user), client_for(manager_user)
    pause = Pause(
        monkeypatch, Books, "close", before=True, when=lambda b: b.entry.source == "stocktake"
    )

    completion = Request(lambda: completer.post(f"{URL}{stocktake.pk}/complete/"))
    pause.wait_until_reached()
    sale = Request(lambda: out(seller, tea, 4))
    sale.join(timeout=HOLD)
    pause.release()

    assert completion.answer().status_code == 200
    assert sale.answer().status_code == 201
    assert Product.objects.get(pk=tea.pk).quantity == 10 + 2 - 4
    assert ledger_mismatches() == []


def test_two_completions_post_once(stocked, organization, manager_user):
    """Without the stocktake's row lock every completion that read it open posted again."""
    main = services.default_location(organization_id=organization.pk)
    products = [stocked(quantity=50, organization=organization) for _ in range(5)]
    stocktake = create_stocktake(organization=organization, location=main, user=manager_user)
    count_lines(
        stocktake=stocktake,
        counts=[LineCount(product.pk, 40 + n) for n, product in enumerate(products)],
        user=manager_user,
    )
    clients = [client_for(manager_user) for _ in range(8)]

    complete = f"{URL}{stocktake.pk}/complete/"
    results = run_concurrently([lambda c=c: c.post(complete) for c in clients])

    assert status_codes(results) == {200: 1, 409: 7}
    assert StockMovement.objects.filter(source="stocktake").count() == 5
    assert sorted(Product.objects.filter(pk__in=[p.pk for p in products]).values_list(
        "quantity", flat=True)) == [40, 41, 42, 43, 44]  # fmt: skip
    assert Stocktake.objects.get().status == "completed"
    assert ledger_mismatches() == []


def test_counts_and_completion_amid_sales_receipts_transfers_and_reservations(
    stocked, organization, manager_user, sales_user
):
    """Whatever runs at once, at the counted location every product ends at its start + the
    moves other than the stocktake's + the sum of the differences the counts recorded."""
    rng = random.Random(25)
    main = services.default_location(organization_id=organization.pk)
    back = services.create_location(organization=organization, name="Back room")
    products = [stocked(quantity=200, organization=organization) for _ in range(4)]
    start = {p.pk: 200 for p in products}
    stocktake = create_stocktake(organization=organization, location=main, user=manager_user)
    manager, counter = client_for(manager_user), client_for(sales_user)

    def receive(product):
        return manager.post(
            "/api/stock/movements/",
            {"product": product.pk, "movement_type": "IN", "quantity": 3},
            format="json",
        )

    def transfer(product):
        return manager.post(
            "/api/stock/transfers/",
            {"product": product.pk, "from_location": main.pk, "to_location": back.pk,
             "quantity": 2},
            format="json",
        )  # fmt: skip

    def reserve(product):
        order = create_sales_order(
            organization=organization, user=sales_user, items=[OrderItem(product, 1)]
        )
        confirm_sales_order(order=order, user=sales_user)
        return order

    def count(batch):
        lines = [{"product": p.pk, "counted_quantity": rng.randint(190, 210)} for p in batch]
        return counter.post(f"{URL}{stocktake.pk}/counts/", {"lines": lines}, format="json")

    moves = []
    for product in products:
        moves += [
            lambda p=product: out(client_for(manager_user), p, 1),
            lambda p=product: receive(p),
            lambda p=product: transfer(p),
            lambda p=product: reserve(p),
        ]
    counts = [lambda b=products[i % 4 :] + products[: i % 4]: count(b) for i in range(8)]
    calls = moves + counts
    rng.shuffle(calls)
    results = run_concurrently(calls)
    assert not [r for r in results if isinstance(r, Exception)], results

    more = [lambda p=p: out(client_for(manager_user), p, 2) for p in products]
    results = run_concurrently([lambda: manager.post(f"{URL}{stocktake.pk}/complete/"), *more])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].status_code == 200, results[0].json()
    for product in products:
        moved = sum(
            StockMovement.objects.filter(product=product, location=main)
            .exclude(source__in=["stocktake", "initial"])
            .values_list("delta", flat=True)
        )
        line = StocktakeLine.objects.get(stocktake=stocktake, product=product)
        assert stock_at(product, main) == (
            start[product.pk] + moved + line.counted_quantity - line.expected_quantity
        )
    assert ledger_mismatches() == []
