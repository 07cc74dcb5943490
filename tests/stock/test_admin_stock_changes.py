"""Stock changes in the admin go through `stock.services` (API.md: "stock only through
movements"): "Record a movement" and "Transfer" ask what the API asks, write the ledger through
`record_movement` and `transfer_stock`, and show the service's refusal (insufficient stock, a
missing lot, ...) as an error on the page, with nothing changed and never a 500."""

import pytest
from django.urls import reverse

from stock.models import StockLevel, StockMovement, Transfer
from tests.factories import ProductFactory

RECORD = reverse("admin:stock_stockmovement_record")
TRANSFER = reverse("admin:stock_stockmovement_transfer")
LEDGER = reverse("admin:stock_stockmovement_changelist")


@pytest.fixture
def nails(stocked, organization):
    return stocked(quantity=10, organization=organization, sku="NAILS", name="Nails")


def movement(**fields):
    return {"movement_type": "IN", "quantity": "5", "location": "", "lot_code": "",
            "expiration_date": "", "note": "", **fields}  # fmt: skip


def errors_shown(response) -> str:
    """The page's error messages and form errors, as text."""
    messages = [str(m) for m in response.context["messages"]]
    return " ".join([*messages, response.context["form"].errors.as_text()])


def test_the_ledger_and_the_product_page_link_to_both(manager, nails):
    ledger = manager.get(LEDGER, secure=True).content.decode()
    assert f'href="{RECORD}"' in ledger and f'href="{TRANSFER}"' in ledger
    page = manager.get(reverse("admin:inventory_product_change", args=[nails.pk]), secure=True)
    html = page.content.decode()
    assert f'href="{RECORD}?product={nails.pk}"' in html
    assert f'href="{TRANSFER}?product={nails.pk}"' in html
    form = manager.get(f"{RECORD}?product={nails.pk}", secure=True)
    assert form.status_code == 200 and "NAILS Nails" in form.content.decode()


def test_recording_a_movement_writes_the_ledger(manager, manager_user, nails, back_room):
    response = manager.post(
        RECORD,
        movement(product=nails.pk, location=back_room.pk, quantity="7", note="Found a box"),
        secure=True,
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LEDGER}?product={nails.pk}"
    row = StockMovement.objects.filter(product=nails).latest("id")
    assert (row.movement_type, row.delta, row.location, row.performed_by, row.note) == (
        "IN", 7, back_room, manager_user, "Found a box",
    )  # fmt: skip
    assert (row.source, row.balance_after) == ("manual", 17)
    nails.refresh_from_db()
    assert nails.quantity == 17
    ledger = manager.get(response["Location"], secure=True)
    assert "IN +7 of NAILS at Back room recorded: 17 on hand in all." in errors_shown_or_messages(
        ledger
    )
    assert [m.pk for m in ledger.context["cl"].result_list][0] == row.pk


def errors_shown_or_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_taking_out_more_than_is_there_is_refused_and_changes_nothing(manager, nails):
    before = StockMovement.objects.count()

    response = manager.post(
        RECORD, movement(product=nails.pk, movement_type="OUT", quantity="70"), secure=True
    )

    assert response.status_code == 200
    assert "NAILS: 70 requested, 10 available." in errors_shown(response)
    assert StockMovement.objects.count() == before
    nails.refresh_from_db()
    assert nails.quantity == 10


def test_a_stocktake_sets_the_counted_quantity(manager, nails):
    response = manager.post(
        RECORD, movement(product=nails.pk, movement_type="ADJUST", quantity="8"), secure=True
    )
    assert response.status_code == 302
    nails.refresh_from_db()
    assert nails.quantity == 8
    assert StockMovement.objects.filter(product=nails).latest("id").delta == -2


def test_a_lot_tracked_product_needs_its_lot(manager, yoghurt):
    refused = manager.post(RECORD, movement(product=yoghurt.pk), secure=True)
    assert refused.status_code == 200
    assert "lot_code" in refused.context["form"].errors
    assert not StockMovement.objects.filter(product=yoghurt).exists()

    done = manager.post(
        RECORD,
        movement(product=yoghurt.pk, lot_code="L-1", expiration_date="2031-05-01"),
        secure=True,
    )
    assert done.status_code == 302
    yoghurt.refresh_from_db()
    assert (yoghurt.quantity, str(yoghurt.expiration_date)) == (5, "2031-05-01")


def test_a_product_with_variations_is_refused_by_the_service(manager, organization):
    parent = ProductFactory(organization=organization, sku="TEE", has_variations=True)
    response = manager.post(RECORD, movement(product=parent.pk), secure=True)
    assert response.status_code == 200
    assert "variations" in errors_shown(response)
    assert not StockMovement.objects.filter(product=parent).exists()


@pytest.mark.parametrize("field", ["product", "location"])
def test_another_organizations_product_or_location_is_refused(
    manager, nails, other_organization, other_location, field
):
    rival = ProductFactory(organization=other_organization, sku="RIVAL", name="Rival nails")
    body = movement(product=nails.pk)
    body[field] = rival.pk if field == "product" else other_location.pk

    response = manager.post(RECORD, body, secure=True)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Rival nails" not in response.content.decode()
    assert StockMovement.objects.filter(source="manual").count() == 0


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999", "1.5", ""])
def test_nonsense_is_a_form_error_never_a_500(manager, nails, value):
    for body in (movement(product=value), movement(product=nails.pk, quantity=value)):
        assert manager.post(RECORD, body, secure=True).status_code == 200
    assert manager.get(RECORD, {"product": value}, secure=True).status_code == 200


def test_a_transfer_moves_stock_through_the_service(manager, manager_user, nails, main, back_room):
    response = manager.post(
        TRANSFER,
        {"product": nails.pk, "from_location": main.pk, "to_location": back_room.pk,
         "quantity": "4", "lot_code": "", "note": "For the shelf"},
        secure=True,
    )  # fmt: skip

    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.quantity, transfer.note) == (4, "For the shelf")
    assert transfer.performed_by == manager_user
    levels = dict(StockLevel.objects.filter(product=nails).values_list("location_id", "quantity"))
    assert levels == {main.pk: 6, back_room.pk: 4}
    assert (
        StockMovement.objects.filter(source="transfer", reference=transfer.reference).count() == 2
    )


def test_a_transfer_of_more_than_is_there_is_refused(manager, nails, main, back_room):
    response = manager.post(
        TRANSFER,
        {"product": nails.pk, "from_location": main.pk, "to_location": back_room.pk,
         "quantity": "11", "lot_code": "", "note": ""},
        secure=True,
    )  # fmt: skip

    assert response.status_code == 200
    assert "NAILS: 11 requested, 10 available." in errors_shown(response)
    assert not Transfer.objects.exists()
    assert StockLevel.objects.get(product=nails).quantity == 10


def test_a_transfer_to_the_same_location_is_refused(manager, nails, main):
    response = manager.post(
        TRANSFER,
        {"product": nails.pk, "from_location": main.pk, "to_location": main.pk,
         "quantity": "1", "lot_code": "", "note": ""},
        secure=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "to_location" in response.context["form"].errors
    assert not Transfer.objects.exists()


def test_a_superuser_records_too(client, nails):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    response = client.post(RECORD, movement(product=nails.pk, quantity="1"), secure=True)
    assert response.status_code == 302
    nails.refresh_from_db()
    assert nails.quantity == 11


def test_signed_out_or_without_access_nobody_records(client, nails, admin_user):
    assert client.get(RECORD, secure=True).status_code == 302  # to the sign-in page
    client.force_login(admin_user)  # no admin_access
    response = client.post(RECORD, movement(product=nails.pk), secure=True)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    nails.refresh_from_db()
    assert nails.quantity == 10
