"""The digest knows what is on order (API.md, Alerts; issue 26): each low product shows its
units on order, and one that open purchase orders bring back above its threshold is listed
apart ("Low, on order"), not as a fresh problem."""

import pytest
from django.core import mail

from alerts import services
from orders.services import OrderItem
from purchases import services as purchases
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_noon(clock):
    """After the digest hour, whatever the hour the suite runs at."""


def test_a_low_product_covered_by_open_orders_is_listed_apart(organization, manager_user,
                                                             stocked):  # fmt: skip
    supplier = SupplierFactory(organization=organization, name="Dairy Co")
    covered = stocked(1, organization=organization, sku="COVERED", low_stock_threshold=5)
    short = stocked(0, organization=organization, sku="SHORT", low_stock_threshold=5)
    stocked(2, organization=organization, sku="BARE", low_stock_threshold=5)
    purchases.create_purchase_order(
        organization=organization, user=None, supplier=supplier,
        items=[OrderItem(covered, 10, 1), OrderItem(short, 2, 1)],
    )  # fmt: skip

    log = services.send_low_stock_digest(organization_id=organization.pk)

    body = mail.outbox[0].body
    fresh, _, apart = body.partition("Low, on order (1 product")
    assert "Low stock (2 products)" in fresh
    assert "SHORT | Product" in fresh and "| 0 | 0 | 2 | 5 |" in fresh  # 0 on hand, 2 on order
    assert "BARE" in fresh and "COVERED" not in fresh
    assert "COVERED" in apart and "| 1 | 1 | 10 | 5 |" in apart
    assert log.low_stock_count == 3  # all that are low, as before
    assert "Low, on order" in mail.outbox[0].alternatives[0][0]


def test_without_orders_nothing_is_listed_apart(organization, manager_user, stocked):
    stocked(0, organization=organization, sku="SHORT", low_stock_threshold=5)

    services.send_low_stock_digest(organization_id=organization.pk)

    assert "Low, on order" not in mail.outbox[0].body
    assert "Low stock (1 product)" in mail.outbox[0].body
