"""Two replenishment runs at once order nothing twice (API.md, Replenishment): the second waits
on the organization's row lock (SELECT ... FOR NO KEY UPDATE of users_organization, taken in
`create_replenishment_orders` before what is due is read), then reads the first's drafts as on
order. Without that lock, both read the same due rules and both order them."""

import pytest

from purchases import services as purchases
from purchases.models import PurchaseOrder, PurchaseOrderItem
from replenishment.models import ReorderRule
from stock import services as stock_services
from tests.factories import ProductFactory, SupplierFactory
from tests.support.api import client_for
from tests.support.concurrency import Request, meet, run_concurrently, status_codes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def due_rules(organization):
    main = stock_services.default_location(organization_id=organization.pk)
    supplier = SupplierFactory(organization=organization, name="Dairy Co")
    for n in range(3):
        product = ProductFactory(organization=organization, sku=f"P{n}", cost_price="1.00")
        ReorderRule.objects.create(
            organization=organization,
            product=product,
            location=main,
            supplier=supplier,
            min_quantity=5,
            max_quantity=10,
        )


def test_two_runs_that_meet_before_ordering_make_one_set_of_drafts(
    monkeypatch, manager_user, due_rules
):
    # Each run, having read what is due, waits for the other before it makes its drafts: with
    # the lock the second is still queued on the organization's row, and the first goes on
    # alone after HOLD seconds.
    meet(monkeypatch, (purchases, "create_draft_orders"), before=True)

    def run():
        return client_for(manager_user).post("/api/replenishment/orders/", {}, format="json")

    first, second = Request(run), Request(run)
    answers = [first.answer(), second.answer()]

    assert [answer.status_code for answer in answers] == [201, 201]
    assert sorted(len(answer.json()["purchase_orders"]) for answer in answers) == [0, 1]
    assert PurchaseOrder.objects.count() == 1
    assert sorted(PurchaseOrderItem.objects.values_list("product__sku", "quantity")) == [
        ("P0", 10), ("P1", 10), ("P2", 10)
    ]  # fmt: skip


def test_many_runs_at_once_order_each_rule_once(manager_user, due_rules):
    answers = run_concurrently(
        [
            lambda: client_for(manager_user).post("/api/replenishment/orders/", {}, format="json")
            for _ in range(6)
        ]
    )

    assert status_codes(answers) == {201: 6}
    assert PurchaseOrder.objects.count() == 1
    assert PurchaseOrderItem.objects.count() == 3
