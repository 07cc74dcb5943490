"""Catalogue rules under real concurrency (threads, PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from core.errors import BrokenRule
from inventory import services
from inventory.models import Product
from inventory.services import ProductFields, VariationFields
from stock.services import NotStockKeeping, create_product_with_stock, record_movement
from tests.factories import OrganizationFactory, ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count, work):
    """Run `work(i)` in `count` threads released at once; return what each returned/raised."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def target(i):
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as exc:  # the outcome is what we check
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def create_with_stock(*, organization, quantity, **fields):
    """What the API's create does: stock's service for a new product with its opening stock."""
    return create_product_with_stock(
        organization=organization, fields=ProductFields(**fields), quantity=quantity, user=None
    )


def test_concurrent_creates_without_sku_get_unique_skus():
    organization = OrganizationFactory()
    outcomes = run_together(
        12,
        lambda i: create_with_stock(
            organization=organization, name=f"P{i}", price="1.00", quantity=i
        ),
    )
    assert all(isinstance(o, Product) for o in outcomes), outcomes
    skus = list(Product.objects.filter(organization=organization).values_list("sku", flat=True))
    assert len(skus) == len(set(skus)) == 12
    assert not [s for s in skus if s.startswith("~")]


def test_concurrent_same_sku_one_wins_the_rest_are_400():
    organization = OrganizationFactory()
    outcomes = run_together(
        8,
        lambda i: create_with_stock(
            organization=organization, sku="SAME", name="P", price="1", quantity=3
        ),
    )
    assert sum(isinstance(o, Product) for o in outcomes) == 1
    errors = [o for o in outcomes if not isinstance(o, Product)]
    assert all(isinstance(e, BrokenRule) and e.field == "sku" for e in errors), errors
    product = Product.objects.get(organization=organization)
    assert product.quantity == 3 and product.movements.count() == 1


def test_variation_and_stock_on_the_parent_never_both_happen():
    """Either the stock goes in (and the variation is refused) or the reverse, never both."""
    for _ in range(5):
        parent = ProductFactory()

        def work(i, parent=parent):
            if i == 0:
                return services.add_variation(
                    parent=parent, fields=VariationFields(attributes={"s": "L"})
                )
            return record_movement(product=parent, movement_type="IN", quantity=1, user=None)

        outcomes = run_together(2, work)
        parent.refresh_from_db()
        if isinstance(outcomes[0], Product):
            assert isinstance(outcomes[1], NotStockKeeping)
            assert (parent.has_variations, parent.quantity) == (True, 0)
        else:
            assert isinstance(outcomes[0], BrokenRule)
            assert (parent.has_variations, parent.quantity) == (False, 1)
