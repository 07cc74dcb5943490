"""An organization's settings (API.md, Organization): `GET/PATCH /api/organization/` with its
time zone, currency and digest hour; every role reads, only admins change them; unknown values
are a 400 that changes nothing; register takes them; new organizations start with
DEFAULT_TIME_ZONE and DEFAULT_CURRENCY; its admins change them in the Django admin too."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from core.currencies import ISO_4217
from tests.factories import OrganizationFactory, UserFactory
from tests.support.admin import change_url
from tests.support.api import client_for, register
from users.models import Organization

pytestmark = pytest.mark.django_db
URL = "/api/organization/"
FIELDS = {"id", "name", "time_zone", "currency", "digest_hour", "created_at"}


def test_every_role_reads_its_own_organization(admin_client, manager_client, sales_client,
                                               organization, other_organization):  # fmt: skip
    for client in (admin_client, manager_client, sales_client):
        response = client.get(URL)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == FIELDS
        assert (body["id"], body["name"]) == (organization.pk, "Corner Shop")
        assert (body["time_zone"], body["currency"], body["digest_hour"]) == ("UTC", "USD", 7)
        assert body["created_at"].endswith("Z")


def test_an_admin_changes_the_settings(admin_client, organization):
    response = admin_client.patch(
        URL,
        {"time_zone": "Pacific/Auckland", "currency": "NZD", "digest_hour": 6, "name": "Kiwi"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        **admin_client.get(URL).json(),
        "time_zone": "Pacific/Auckland", "currency": "NZD", "digest_hour": 6, "name": "Kiwi",
    }  # fmt: skip
    organization.refresh_from_db()
    assert (organization.time_zone, organization.currency, organization.digest_hour) == (
        "Pacific/Auckland", "NZD", 6,
    )  # fmt: skip
    # From the next request on, every answer says so: the signed-in user's organization is
    # read afresh (it is cached with the user), the dashboard carries the new currency.
    assert admin_client.get("/api/users/me/").json()["organization"]["name"] == "Kiwi"
    assert admin_client.get("/api/dashboard/").json()["currency"] == "NZD"
    assert admin_client.get("/api/dashboard/total-sales/").json()["currency"] == "NZD"


def test_only_admins_change_it(manager_client, sales_client, organization):
    for client in (manager_client, sales_client):
        response = client.patch(URL, {"currency": "EUR"}, format="json")
        assert response.status_code == 403
    organization.refresh_from_db()
    assert organization.currency == "USD"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "Etc/GMT-14"}, "time_zone"),  # an offset, not a place
        ({"time_zone": "localtime"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"time_zone": "x" * 65}, "time_zone"),
        ({"time_zone": None}, "time_zone"),
        ({"time_zone": ["UTC"]}, "time_zone"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),  # codes are upper case
        ({"currency": "XXX"}, "currency"),  # "no currency"
        ({"currency": 978}, "currency"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": "seven"}, "digest_hour"),
        ({"digest_hour": 6.5}, "digest_hour"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"time_zone": "Europe/Paris", "currency": "ABC"}, "currency"),  # all or nothing
    ],
)
def test_bad_settings_are_a_400_that_changes_nothing(admin_client, organization, body, field):
    response = admin_client.patch(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    organization.refresh_from_db()
    assert (organization.name, organization.time_zone, organization.currency,
            organization.digest_hour) == ("Corner Shop", "UTC", "USD", 7)  # fmt: skip


def test_only_get_and_patch(admin_client):
    assert admin_client.put(URL, {"name": "X"}, format="json").status_code == 405
    assert admin_client.delete(URL).status_code == 405
    assert admin_client.post(URL, {"name": "X"}, format="json").status_code == 405


def test_anonymous_and_organizationless_callers_are_refused(api_client):
    assert api_client.get(URL).status_code == 401
    root = UserFactory(organization=None, is_superuser=True, is_staff=True, role=None)
    assert client_for(root).get(URL).status_code == 403


def test_each_admin_reads_and_changes_only_their_own(admin_client, other_admin_client,
                                                     organization, other_organization):  # fmt: skip
    assert other_admin_client.get(URL).json()["id"] == other_organization.pk
    other_admin_client.patch(URL, {"currency": "EUR"}, format="json")
    organization.refresh_from_db()
    other_organization.refresh_from_db()
    assert (organization.currency, other_organization.currency) == ("USD", "EUR")


def test_reading_and_changing_take_a_constant_number_of_queries(
    admin_client, admin_user, django_assert_max_num_queries, settings
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    admin_client.get(URL)  # the signed-in user (role, permissions) cached
    with django_assert_max_num_queries(1):  # the organization
        assert admin_client.get(URL).status_code == 200
    # the organization; the zone known to the database (PostgreSQL); a savepoint, the row
    # locked, written; its users (their cached sign-in moves on); the audit row; the savepoint
    # released
    with django_assert_max_num_queries(8):
        assert (
            admin_client.patch(URL, {"time_zone": "Asia/Tokyo"}, format="json").status_code == 200
        )


# --- Register -------------------------------------------------------------------------------


def test_register_takes_the_time_zone_and_currency(api_client):
    response = register(api_client, time_zone="America/New_York", currency="CAD")

    assert response.status_code == 201, response.json()
    organization = Organization.objects.get(pk=response.json()["organization"]["id"])
    assert (organization.time_zone, organization.currency, organization.digest_hour) == (
        "America/New_York", "CAD", 7,
    )  # fmt: skip


def test_new_organizations_start_with_the_configured_defaults(api_client, settings):
    settings.DEFAULT_TIME_ZONE = "Europe/Paris"
    settings.DEFAULT_CURRENCY = "EUR"

    assert register(api_client).status_code == 201
    organization = Organization.objects.get(name="New Shop Ltd")
    assert (organization.time_zone, organization.currency) == ("Europe/Paris", "EUR")


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"time_zone": "Atlantis/Capital"}, "time_zone"), ({"currency": "ABC"}, "currency")],
)
def test_register_refuses_unknown_settings_and_creates_nothing(api_client, fields, field):
    response = register(api_client, **fields)

    assert response.status_code == 400
    assert field in response.json()
    assert not Organization.objects.exists()


def test_bad_defaults_stop_the_server_from_starting(settings):
    settings.DEFAULT_TIME_ZONE = "Mars/Olympus_Mons"
    settings.DEFAULT_CURRENCY = "ABC"
    with pytest.raises(SystemCheckError) as refused:
        call_command("check")
    assert "DEFAULT_TIME_ZONE" in str(refused.value) and "DEFAULT_CURRENCY" in str(refused.value)


def test_the_currencies_are_iso_4217_codes_of_money():
    assert {"EUR", "USD", "NZD", "JPY", "XOF", "CHF"} <= ISO_4217
    assert not {"XXX", "XTS", "XAU", "BGN", "ANG", "eur"} & ISO_4217
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217)


def test_the_database_refuses_a_digest_hour_or_currency_out_of_range(organization):
    from django.db import IntegrityError, transaction

    for fields in ({"digest_hour": 24}, {"currency": "eur"}, {"time_zone": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Organization.objects.filter(pk=organization.pk).update(**fields)


# --- The admin -------------------------------------------------------------------------------


def save_in_admin(client, organization, **fields):
    """The organization's admin form sent with these values (the others as they are)."""
    form = {"name": "Corner Shop", "time_zone": "UTC", "currency": "USD", "digest_hour": "7"}
    return client.post(change_url(organization), {**form, **fields}, secure=True)


def test_an_org_admin_changes_the_settings_in_the_admin(owner, organization, admin_user):
    page = owner.get(change_url(organization), secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="Pacific/Auckland">' in html and '<option value="NZD">' in html

    kiwi = {"name": "Kiwi Shop", "time_zone": "Pacific/Auckland", "currency": "NZD"}
    response = save_in_admin(owner, organization, **kiwi, digest_hour="5")

    assert response.status_code == 302, response.context["adminform"].form.errors
    organization.refresh_from_db()
    assert (organization.name, organization.time_zone, organization.currency,
            organization.digest_hour) == ("Kiwi Shop", "Pacific/Auckland", "NZD", 5)  # fmt: skip
    # Through the service, as the API: the API's next answer has it.
    assert client_for(admin_user).get("/api/dashboard/").json()["currency"] == "NZD"


def test_an_unknown_time_zone_in_the_admin_is_a_form_error(owner, organization):
    response = save_in_admin(owner, organization, time_zone="Mars/Olympus_Mons")
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors
    organization.refresh_from_db()
    assert organization.time_zone == "UTC"


def test_a_manager_sees_the_settings_in_the_admin_but_cannot_change_them(manager, organization):
    page = manager.get(change_url(organization), secure=True)
    assert page.status_code == 200
    assert 'name="time_zone"' not in page.content.decode()  # read-only
    save_in_admin(manager, organization, name="Mine", time_zone="Asia/Tokyo", currency="JPY")
    organization.refresh_from_db()
    assert (organization.name, organization.time_zone) == ("Corner Shop", "UTC")


def test_another_organization_is_out_of_reach_in_the_admin(owner, other_organization):
    assert owner.get(change_url(other_organization), secure=True).status_code in (302, 404)
    listed = owner.get(reverse("admin:users_organization_changelist"), secure=True)
    assert "Rival Shop" not in listed.content.decode()


def test_a_superuser_lists_each_organizations_settings(client):
    OrganizationFactory(name="Kiwi", time_zone="Pacific/Auckland", currency="NZD")
    root = UserFactory(organization=None, is_superuser=True, is_staff=True, role=None)
    client.force_login(root)
    html = client.get(reverse("admin:users_organization_changelist"), secure=True)
    html = html.content.decode()
    assert "Pacific/Auckland" in html and "NZD" in html


def test_the_admin_shows_times_in_the_organizations_zone(owner, organization, admin_user,
                                                        stocked, clock):  # fmt: skip
    """A movement recorded at 23:30 in Auckland is shown at 23:30, on that day."""
    import datetime

    from users import services

    services.update_organization(organization=organization, time_zone="Pacific/Auckland")
    clock.move_to(datetime.datetime(2026, 11, 20, 10, 30, tzinfo=datetime.UTC))  # 23:30 NZDT
    owner.force_login(admin_user)
    milk = stocked(3, organization=organization, sku="MILK")

    page = owner.get(reverse("admin:inventory_product_change", args=[milk.pk]), secure=True)

    assert "<td>2026-11-20 23:30</td>" in page.content.decode()
    ledger = owner.get(reverse("admin:stock_stockmovement_changelist"),
                       {"created_at__day": "20", "created_at__month": "11",
                        "created_at__year": "2026"}, secure=True)  # fmt: skip
    assert ledger.context["cl"].result_count == 1  # the date hierarchy's day is Auckland's


def test_the_schema_describes_the_settings_as_the_api_behaves(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    assert set(schema["paths"]["/api/organization/"]) == {"get", "patch"}
    answer = components["OrganizationSettings"]
    assert set(answer["properties"]) == FIELDS
    assert set(answer["required"]) == FIELDS
    properties = answer["properties"]
    assert properties["time_zone"]["type"] == "string"
    assert properties["currency"]["allOf"] == [{"$ref": "#/components/schemas/CurrencyEnum"}]
    assert set(components["CurrencyEnum"]["enum"]) == ISO_4217
    assert (properties["digest_hour"]["minimum"], properties["digest_hour"]["maximum"]) == (0, 23)
    patch = components["PatchedOrganizationSettingsRequest"]
    assert set(patch["properties"]) == {"name", "time_zone", "currency", "digest_hour"}
    assert "required" not in patch
    register = components["RegisterRequest"]
    assert {"time_zone", "currency"} <= set(register["properties"])
    assert not {"time_zone", "currency"} & set(register["required"])
