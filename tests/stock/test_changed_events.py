"""Every movement writes its `stock.changed` event in the movement's own transaction, with the
movement's figures (docs/api.md, Webhooks). A few movements and their events are one statement
(`core.events.insert_with_events`), many a COPY and one INSERT ... SELECT: the same data either
way, in the movements' order."""

import pytest
from django.db import connection

from core.bulk import COPY_AT_LEAST
from core.models import Event
from stock import services
from stock.models import StockMovement
from tests.factories import ProductFactory
from tests.support.bulk import copied_tables


def last_event() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 2, COPY_AT_LEAST])
def test_each_movement_writes_its_event_with_the_movements_figures(
    organization, count, monkeypatch
):
    products = [
        ProductFactory(organization=organization, sku=f"TEA-{n}", quantity=0) for n in range(count)
    ]
    services.add_to_stock(
        lines=[services.StockLine(product.pk, 10) for product in products],
        source="manual",
        reference=None,
        user=None,
    )
    first_event = last_event()
    copied = copied_tables(monkeypatch)

    movements = services.add_to_stock(
        lines=[services.StockLine(product.pk, n + 1) for n, product in enumerate(products)],
        source="purchase_order",
        reference="PO-000042",
        user=None,
    )

    assert [m.pk for m in movements] == list(
        StockMovement.objects.filter(pk__in=[m.pk for m in movements]).order_by("pk")
        .values_list("pk", flat=True)
    )  # fmt: skip
    events = Event.objects.filter(pk__gt=first_event, type="stock.changed").order_by("pk")
    assert [(event.organization_id, event.data) for event in events] == [
        (
            organization.pk,
            {
                "movement": movement.pk,
                "product": product.pk,
                "sku": product.sku,
                "location": movement.location_id,
                "movement_type": "IN",
                "delta": n + 1,
                "quantity": 10 + n + 1,  # the quantity after
                "source": "purchase_order",
                "reference": "PO-000042",
            },
        )
        for n, (product, movement) in enumerate(zip(products, movements, strict=True))
    ]
    by_copy = count >= COPY_AT_LEAST and connection.vendor == "postgresql"
    assert ("stock_stockmovement" in copied) == by_copy  # the path under test
    assert len({event.uuid for event in events}) == count
    assert len({event.txid for event in events}) == 1  # one transaction (0 on SQLite)


@pytest.mark.django_db
def test_a_movement_without_a_reference_says_so(organization):
    product = ProductFactory(organization=organization, sku="MUG", quantity=0)
    services.record_movement(product=product, movement_type="IN", quantity=5, user=None)

    movement = services.record_movement(product=product, movement_type="IN", quantity=3, user=None)

    data = Event.objects.get(type="stock.changed", data__movement=movement.pk).data
    assert (data["reference"], data["source"], data["quantity"]) == (None, "manual", 8)


@pytest.mark.django_db
def test_stock_taken_out_says_how_much_went_and_how_much_is_left(organization):
    product = ProductFactory(organization=organization, sku="CUP", quantity=0)
    services.record_movement(product=product, movement_type="IN", quantity=10, user=None)
    first_event = last_event()

    (movement,) = services.take_out_of_stock(
        lines=[services.StockLine(product.pk, 4)], source="sales_order", reference="SO-00007",
        user=None,
    )  # fmt: skip

    (event,) = Event.objects.filter(pk__gt=first_event, type="stock.changed")
    assert event.data == {
        "movement": movement.pk, "product": product.pk, "sku": "CUP",
        "location": movement.location_id, "movement_type": "OUT", "delta": -4, "quantity": 6,
        "source": "sales_order", "reference": "SO-00007",
    }  # fmt: skip
