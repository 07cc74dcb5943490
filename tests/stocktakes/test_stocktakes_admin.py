"""The stocktake's admin page: a count sheet whose buttons call stocktakes.services."""

import pytest

from inventory.models import Product
from stock.models import StockMovement
from stocktakes.models import Stocktake
from stocktakes.services import create_stocktake
from tests.support.admin import change_url, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


@pytest.fixture
def tea(stocked, organization):
    return stocked(quantity=10, organization=organization, sku="TEA-1", cost_price="2.00")


def test_opening_counting_and_completing_in_the_admin(manager, main, tea, organization):
    answer = manager.post(url(Stocktake, "add"), {"location": main.pk, "note": "Weekly"})
    stocktake = Stocktake.objects.get()
    assert answer.status_code == 302
    assert answer.url == change_url(stocktake)
    sheet = manager.get(change_url(stocktake))
    assert sheet.status_code == 200
    assert b"TEA-1" in sheet.content

    manager.post(change_url(stocktake), {f"count-{tea.pk}-0": "7", "_count": "1"})
    line = stocktake.lines.get()
    assert (line.expected_quantity, line.counted_quantity) == (10, 7)
    done = manager.post(change_url(stocktake), {"_complete": "1"}, follow=True)

    assert "completed: -3 unit(s)" in done.content.decode()
    assert "-6.00 USD" in done.content.decode()  # the variance at average cost
    assert Product.objects.get(pk=tea.pk).quantity == 7
    assert StockMovement.objects.get(source="stocktake").reference == stocktake.reference


def test_a_refusal_is_a_message_and_changes_nothing(manager, main, tea, manager_user):
    create_stocktake(organization=main.organization, location=main, user=manager_user)
    answer = manager.post(url(Stocktake, "add"), {"location": main.pk}, follow=True)
    assert "is open at" in answer.content.decode()
    assert Stocktake.objects.count() == 1
    stocktake = Stocktake.objects.get()
    answer = manager.post(change_url(stocktake), {f"count-{tea.pk}-0": "x", "_count": "1"},
                          follow=True)  # fmt: skip
    assert "whole numbers" in answer.content.decode()
    assert stocktake.lines.get().counted_quantity is None


def test_cancelling_in_the_admin(manager, main, tea, manager_user):
    stocktake = create_stocktake(organization=main.organization, location=main, user=manager_user)
    manager.post(change_url(stocktake), {"_cancel": "1"})
    assert Stocktake.objects.get().status == "cancelled"
    assert Product.objects.get(pk=tea.pk).quantity == 10


def test_another_organizations_stocktake_is_out_of_reach(
    manager, other_organization, stocked, other_admin_user
):
    from stock.services import default_location

    theirs = stocked(quantity=3, organization=other_organization)
    location = default_location(organization_id=other_organization.pk)
    stocktake = create_stocktake(organization=other_organization, location=location,
                                 user=other_admin_user)  # fmt: skip
    assert manager.get(change_url(stocktake)).status_code in (302, 404)
    manager.post(change_url(stocktake), {"_complete": "1"})
    assert Stocktake.objects.get().status == "open"
    assert Product.objects.get(pk=theirs.pk).quantity == 3
    assert b"ST-00001" not in manager.get(url(Stocktake)).content


def test_counts_typed_but_not_saved_are_counted_when_completing(manager, main, tea, manager_user):
    stocktake = create_stocktake(organization=main.organization, location=main, user=manager_user)
    done = manager.post(
        change_url(stocktake), {f"count-{tea.pk}-0": "8", "_complete": "1"}, follow=True
    )

    assert "completed: -2 unit(s)" in done.content.decode()
    assert stocktake.lines.get().counted_quantity == 8
    assert Product.objects.get(pk=tea.pk).quantity == 8


def test_a_mistyped_count_stops_the_completion(manager, main, tea, manager_user):
    stocktake = create_stocktake(organization=main.organization, location=main, user=manager_user)
    answer = manager.post(
        change_url(stocktake), {f"count-{tea.pk}-0": "-4", "_complete": "1"}, follow=True
    )

    assert "whole numbers" in answer.content.decode()
    assert Stocktake.objects.get().status == "open"
    assert stocktake.lines.get().counted_quantity is None
    assert Product.objects.get(pk=tea.pk).quantity == 10
