"""API.md "Locations": /api/locations/ — where stock is kept, the default `Main`, the 409s."""

import pytest

from stock.models import Location, StockMovement
from tests.factories import OrganizationFactory
from tests.support.stock import levels, move

URL = "/api/locations/"
FIELDS = {"id", "name", "code", "address", "is_default", "is_archived", "created_at", "updated_at"}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


def test_registering_creates_the_default_location_main(api_client):
    response = api_client.post(
        "/api/register/",
        {"username": "newshop", "email": "new@example.com", "password": "a-long-enough-pass-42"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    organization_id = Location.objects.get(name="Main").organization_id
    assert list(
        Location.objects.filter(organization_id=organization_id).values_list("name", "is_default")
    ) == [("Main", True)]


def test_an_organization_made_in_the_admin_or_a_script_gets_main_too():
    organization = OrganizationFactory()
    assert organization.locations.get().name == "Main"


def test_list_shows_the_organizations_live_locations_by_name(
    admin_client, sales_client, main, back_room, other_location
):
    archived = Location.objects.create(
        organization=main.organization, name="Old shed", is_archived=True
    )
    body = admin_client.get(URL).json()
    assert [row["name"] for row in body["results"]] == ["Back room", "Main"]
    assert set(body["results"][0]) == FIELDS
    assert body["results"][1]["is_default"] is True
    assert sales_client.get(URL).status_code == 200  # every role reads
    assert admin_client.get(f"{URL}{archived.pk}/").status_code == 404
    assert admin_client.get(f"{URL}{other_location.pk}/").status_code == 404


def test_list_query_count_is_constant(admin_client, organization, django_assert_max_num_queries):
    for n in range(30):
        Location.objects.create(organization=organization, name=f"Shelf {n}")
    with django_assert_max_num_queries(6):
        response = admin_client.get(URL)
    assert response.json()["count"] == 31


def test_create_and_edit(manager_client, main):
    response = manager_client.post(URL, {"name": "  Warehouse ", "code": "WH", "address": "Dock 4"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["code"], body["is_default"], body["is_archived"]) == (
        "Warehouse",
        "WH",
        False,
        False,
    )
    response = manager_client.patch(f"{URL}{body['id']}/", {"address": "Dock 5", "code": ""})
    assert response.status_code == 200, response.json()
    assert (response.json()["address"], response.json()["code"]) == ("Dock 5", None)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "main"}, "name"),  # names are unique case-insensitively
        ({"name": "Shed", "code": "BR"}, "code"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({}, "name"),
    ],
)
def test_bad_names_and_codes_are_400_and_create_nothing(admin_client, main, back_room, body, field):
    before = Location.objects.count()
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Location.objects.count() == before


def test_a_rename_onto_another_locations_name_is_400(admin_client, main, back_room):
    response = admin_client.patch(f"{URL}{back_room.pk}/", {"name": "MAIN"})
    assert response.status_code == 400
    assert "name" in response.json()


def test_making_one_default_clears_the_other(admin_client, main, back_room):
    response = admin_client.patch(f"{URL}{back_room.pk}/", {"is_default": True})
    assert response.status_code == 200
    assert list(
        Location.objects.filter(organization=main.organization, is_default=True).values_list(
            "name", flat=True
        )
    ) == ["Back room"]
    # New stock without a location now lands in the new default.
    product = main.organization.products.create(sku="P-1", name="P", price="1.00")
    assert move(admin_client, product=product.pk, movement_type="IN", quantity=2).status_code == 201
    assert levels(product) == {("Back room", None): 2}


def test_the_default_cannot_just_stop_being_it(admin_client, main):
    response = admin_client.patch(f"{URL}{main.pk}/", {"is_default": False})
    assert response.status_code == 400
    assert "is_default" in response.json()
    main.refresh_from_db()
    assert main.is_default


def test_a_new_location_can_take_over_as_default(admin_client, main):
    response = admin_client.post(URL, {"name": "Shop floor", "is_default": True})
    assert response.status_code == 201
    main.refresh_from_db()
    assert not main.is_default


def test_sales_reads_but_does_not_write(sales_client, main):
    assert sales_client.post(URL, {"name": "Mine"}).status_code == 403
    assert sales_client.patch(f"{URL}{main.pk}/", {"name": "Mine"}).status_code == 403
    assert sales_client.delete(f"{URL}{main.pk}/").status_code == 403


def test_anonymous_and_other_organizations_are_kept_out(api_client, other_admin_client, main):
    assert api_client.get(URL).status_code == 401
    assert other_admin_client.patch(f"{URL}{main.pk}/", {"name": "Ours"}).status_code == 404
    assert other_admin_client.delete(f"{URL}{main.pk}/").status_code == 404


class TestDelete:
    def test_the_default_location_is_409(self, admin_client, main):
        response = admin_client.delete(f"{URL}{main.pk}/")
        assert response.status_code == 409
        assert "default" in response.json()["detail"]

    def test_one_that_holds_stock_is_409_naming_its_units(
        self, admin_client, stocked, organization, back_room
    ):
        product = stocked(quantity=0, organization=organization)
        move(
            admin_client, product=product.pk, movement_type="IN", quantity=7, location=back_room.pk
        )
        response = admin_client.delete(f"{URL}{back_room.pk}/")
        assert response.status_code == 409
        assert "7" in response.json()["detail"]
        assert Location.objects.filter(pk=back_room.pk, is_archived=False).exists()

    def test_one_with_history_is_archived_and_refuses_new_stock(
        self, admin_client, stocked, organization, back_room
    ):
        product = stocked(quantity=0, organization=organization)
        move(
            admin_client, product=product.pk, movement_type="IN", quantity=3, location=back_room.pk
        )
        move(
            admin_client, product=product.pk, movement_type="OUT", quantity=3, location=back_room.pk
        )
        assert admin_client.delete(f"{URL}{back_room.pk}/").status_code == 204
        back_room.refresh_from_db()
        assert back_room.is_archived
        assert StockMovement.objects.filter(location=back_room).count() == 2  # history stays
        assert [row["name"] for row in admin_client.get(URL).json()["results"]] == ["Main"]

        response = move(
            admin_client, product=product.pk, movement_type="IN", quantity=1, location=back_room.pk
        )
        assert response.status_code == 400
        assert "archived" in str(response.json()["location"])

    def test_one_without_history_is_removed(self, admin_client, back_room):
        assert admin_client.delete(f"{URL}{back_room.pk}/").status_code == 204
        assert not Location.objects.filter(pk=back_room.pk).exists()

    def test_manager_may_delete(self, manager_client, back_room):
        assert manager_client.delete(f"{URL}{back_room.pk}/").status_code == 204


def test_stock_at_another_organizations_location_is_400(
    admin_client, stocked, organization, other_location
):
    product = stocked(quantity=2, organization=organization)
    response = move(
        admin_client, product=product.pk, movement_type="IN", quantity=1, location=other_location.pk
    )
    assert response.status_code == 400
    assert "location" in response.json()
    assert product.quantity == 2 and levels(product) == {("Main", None): 2}
