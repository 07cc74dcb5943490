"""Real threads against PostgreSQL: stock per location and lot stays right under concurrency.

The product's row lock guards all of its levels and lots (stock.services.Books.of locks the
products in id order before reading a level): without it these tests fail, with lost updates
of a level (the three invariants of check_stock_ledger break) or a lot taken twice.
"""

import datetime

import pytest

from core.dates import local_today
from inventory.models import Product
from stock import services
from stock.models import Lot, MovementLot, StockLevel
from stock.selectors import ledger_mismatches
from tests.factories import ProductFactory
from tests.support.api import client_for
from tests.support.concurrency import run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def level_at(product, location) -> int:
    return sum(
        StockLevel.objects.filter(product=product, location=location).values_list(
            "quantity", flat=True
        )
    )


@pytest.fixture
def two_places(organization):
    main = services.default_location(organization_id=organization.pk)
    back = services.create_location(organization=organization, name="Back room")
    return main, back


def test_fifty_transfers_and_sales_across_two_locations(
    stocked, organization, manager_user, two_places
):
    main, back = two_places
    product = stocked(quantity=30, organization=organization)
    services.record_movement(
        product=product, movement_type="IN", quantity=30, user=None, location=back
    )

    def transfer(source, target):
        body = {"product": product.pk, "from_location": source.pk, "to_location": target.pk,
                "quantity": 3}  # fmt: skip
        return ("transfer", source, target), body, "/api/stock/transfers/"

    def sale(location):
        body = {"items": [{"product": product.pk, "quantity": 2}], "location": location.pk,
                "status": "fulfilled"}  # fmt: skip
        return ("sale", location, None), body, "/api/sales-orders/"

    plan = (
        [transfer(main, back)] * 15 + [transfer(back, main)] * 10
        + [sale(main)] * 13 + [sale(back)] * 12
    )  # fmt: skip
    clients = [client_for(manager_user) for _ in plan]
    results = run_concurrently(
        [
            lambda c=c, body=body, path=path: c.post(path, body, format="json")
            for c, (_, body, path) in zip(clients, plan, strict=True)
        ]
    )

    codes = status_codes(results)
    assert set(codes) <= {201, 400} and codes[201] > 0, codes
    expected = {main.pk: 30, back.pk: 30}
    for (kind, first, second), _, _ in (
        step for step, response in zip(plan, results, strict=True) if response.status_code == 201
    ):
        if kind == "transfer":
            expected[first.pk] -= 3
            expected[second.pk] += 3
        else:
            expected[first.pk] -= 2
    for response in results:
        if response.status_code == 400:  # refused for want of stock there, nothing else
            assert "available" in str(response.json()), response.json()
    assert {main.pk: level_at(product, main), back.pk: level_at(product, back)} == expected
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert Product.objects.get(pk=product.pk).quantity == sum(expected.values())
    assert ledger_mismatches() == []


def test_fefo_under_thirty_concurrent_outs_takes_each_lot_in_order(
    organization, manager_user, two_places
):
    today = local_today(None)
    product = ProductFactory(organization=organization, track_lots=True)
    for code, quantity, days in [("A", 10, 1), ("B", 10, 2), ("C", 10, 3), ("GONE", 5, -1)]:
        services.record_movement(
            product=product, movement_type="IN", quantity=quantity, user=None, lot_code=code,
            expiration_date=today + datetime.timedelta(days=days),
        )  # fmt: skip
    clients = [client_for(manager_user) for _ in range(33)]
    body = {"product": product.pk, "movement_type": "OUT", "quantity": 1}

    results = run_concurrently(
        [lambda c=c: c.post("/api/stock/movements/", body, format="json") for c in clients]
    )

    assert status_codes(results) == {201: 30, 400: 3}
    refused = [r.json() for r in results if r.status_code == 400]
    assert all("5 more are there but expired" in str(body) for body in refused)
    assert dict(Lot.objects.filter(product=product).values_list("code", "quantity")) == {
        "A": 0, "B": 0, "C": 0, "GONE": 5,
    }  # fmt: skip
    # In the order the OUTs committed (their ids), the lots were taken A, then B, then C.
    taken = list(
        MovementLot.objects.filter(lot__product=product, delta__lt=0)
        .order_by("movement_id")
        .values_list("lot__code", flat=True)
    )
    assert taken == ["A"] * 10 + ["B"] * 10 + ["C"] * 10
    assert ledger_mismatches() == []


def test_a_transfer_racing_a_sale_of_the_last_units_exactly_one_wins(
    stocked, organization, manager_user, two_places
):
    main, back = two_places
    rounds = 8
    products = [stocked(quantity=5, organization=organization) for _ in range(rounds)]
    calls = []
    for product in products:
        mover, seller = client_for(manager_user), client_for(manager_user)
        transfer = {"product": product.pk, "from_location": main.pk, "to_location": back.pk,
                    "quantity": 5}  # fmt: skip
        sale = {"items": [{"product": product.pk, "quantity": 5}], "status": "fulfilled"}
        calls.append(lambda c=mover, b=transfer: c.post("/api/stock/transfers/", b, format="json"))
        calls.append(lambda c=seller, b=sale: c.post("/api/sales-orders/", b, format="json"))

    results = run_concurrently(calls, workers=2 * rounds)

    for n, product in enumerate(products):
        pair = results[2 * n : 2 * n + 2]
        assert sorted(r.status_code for r in pair) == [201, 400], [r.json() for r in pair]
        moved = pair[0].status_code == 201
        assert (level_at(product, main), level_at(product, back)) == ((0, 5) if moved else (0, 0))
        assert Product.objects.get(pk=product.pk).quantity == (5 if moved else 0)
    assert ledger_mismatches() == []
