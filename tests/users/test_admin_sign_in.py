"""Who signs in to `/admin/` (API.md, Documentation and operations): the platform's
superusers, and an organization's active admins and managers whom its admin let in with
`admin_access`; nobody else, whatever their password, with one answer for all refusals."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
REFUSED = "Please enter the correct username and password for a staff account."


def sign_in(client, username, password=PASSWORD):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, secure=True
    )


def signed_in(client) -> bool:
    """The admin's index answers (not a redirect to the sign-in page)."""
    return client.get("/admin/", secure=True).status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_an_admin_or_manager_with_admin_access_signs_in(client, organization, role):
    UserFactory(username="ben", organization=organization, role=role, admin_access=True)
    response = sign_in(client, "ben")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)


def test_a_superuser_signs_in_as_today(client):
    UserFactory(username="root", organization=None, is_staff=True, is_superuser=True)
    assert sign_in(client, "root").status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(
    "user",
    [
        {"role": Role.ADMIN, "admin_access": False},
        {"role": Role.MANAGER, "admin_access": False},
        {"role": Role.SALES, "admin_access": True},  # written around the service's rule
        {"role": Role.SALES, "admin_access": False, "is_staff": True},
        {"role": Role.MANAGER, "admin_access": True, "is_active": False},
        {"role": "", "admin_access": True},  # no role group at all
        {"role": Role.ADMIN, "admin_access": True, "organization": None},
        {"role": "", "organization": None, "is_staff": True},  # staff is not enough
        {"role": "", "organization": None, "is_superuser": True},  # nor superuser without it
    ],
    ids=[
        "admin without access",
        "manager without access",
        "sales rep with access",
        "sales rep with is_staff",
        "inactive manager",
        "no role",
        "no organization",
        "staff without superuser",
        "superuser without staff",
    ],
)
def test_nobody_else_signs_in_even_with_the_right_password(client, organization, user):
    UserFactory(username="ben", **{"organization": organization, **user})

    response = sign_in(client, "ben")

    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not signed_in(client)


def test_a_wrong_password_gets_the_same_answer(client, organization):
    UserFactory(username="ben", organization=organization, role=Role.ADMIN, admin_access=True)
    response = sign_in(client, "ben", "not-the-password")
    assert response.status_code == 200 and REFUSED in response.content.decode()


def test_a_session_ends_when_access_is_taken_away(client, organization, admin_client):
    ben = UserFactory(username="ben", organization=organization, role=Role.MANAGER,
                      admin_access=True)  # fmt: skip
    client.force_login(ben)
    assert signed_in(client)

    revoked = admin_client.patch(f"/api/users/{ben.pk}/", {"admin_access": False}, format="json")

    assert revoked.status_code == 200
    response = client.get("/admin/inventory/product/", secure=True)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_demoting_to_sales_through_the_api_closes_the_admin(client, organization, admin_client):
    ben = UserFactory(username="ben", organization=organization, role=Role.MANAGER,
                      admin_access=True)  # fmt: skip
    client.force_login(ben)
    body = {"role": "sales", "admin_access": False}
    assert admin_client.patch(f"/api/users/{ben.pk}/", body, format="json").status_code == 200
    assert not signed_in(client)


def test_an_org_admin_lets_a_colleague_in_over_the_api(client, admin_client, organization):
    """The README's way: PATCH admin_access, then the colleague signs in with their password."""
    ben = UserFactory(username="ben", organization=organization, role=Role.MANAGER)
    assert sign_in(client, "ben").status_code == 200  # not yet

    response = admin_client.patch(f"/api/users/{ben.pk}/", {"admin_access": True}, format="json")

    assert response.status_code == 200
    assert sign_in(client, "ben").status_code == 302
    assert signed_in(client)


def test_failed_sign_ins_are_throttled_with_the_api_logins(client, api_client, organization):
    """Five failures, on the admin's form or the API, and the sixth attempt is refused even
    with the right password, for that username and address only."""
    UserFactory(username="ben", organization=organization, role=Role.ADMIN, admin_access=True)
    for _ in range(3):
        assert sign_in(client, "ben", "wrong").status_code == 200
    for _ in range(2):
        failed = api_client.post("/api/login/", {"username": "ben", "password": "wrong"})
        assert failed.status_code == 401

    response = sign_in(client, "BEN ")

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert not signed_in(client)
    api = api_client.post("/api/login/", {"username": "ben", "password": PASSWORD})
    assert api.status_code == 429
    other = client.post(LOGIN, {"username": "ben", "password": PASSWORD}, secure=True,
                        REMOTE_ADDR="10.9.8.7")  # fmt: skip
    assert other.status_code == 302


def test_a_password_changed_in_the_admin_ends_the_api_sessions(client, organization):
    ben = UserFactory(username="ben", organization=organization, role=Role.ADMIN,
                      admin_access=True)  # fmt: skip
    Token.objects.create(user=ben)
    client.force_login(ben)
    new = "copper-Lantern-77-bay"

    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        secure=True,
    )

    assert response.status_code == 302
    assert User.objects.get(pk=ben.pk).check_password(new)
    assert not Token.objects.filter(user=ben).exists()
    assert signed_in(client)  # the admin session itself goes on
