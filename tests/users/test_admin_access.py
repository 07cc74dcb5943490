"""`admin_access` on `/api/users/` (API.md): an org admin lets admins and managers of their
organization into the Django admin; never a sales rep, and a demotion to sales must take it
away in the same request. `/api/users/me/` keeps its shape."""

import pytest

from tests.factories import UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db

NEW = {"username": "ben", "email": "ben@example.com", "password": "violet-Harbour-19-moss"}


def test_a_new_user_has_no_admin_access_by_default(admin_client):
    response = admin_client.post("/api/users/", {**NEW, "role": "manager"}, format="json")
    assert response.status_code == 201
    assert response.json()["admin_access"] is False
    assert User.objects.get(username="ben").admin_access is False


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_an_admin_adds_an_admin_or_manager_with_admin_access(admin_client, role):
    response = admin_client.post(
        "/api/users/", {**NEW, "role": role, "admin_access": True}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["role"], response.json()["admin_access"]) == (role, True)
    assert User.objects.get(username="ben").admin_access is True


def test_a_sales_rep_with_admin_access_is_400_and_not_created(admin_client):
    response = admin_client.post(
        "/api/users/", {**NEW, "role": "sales", "admin_access": True}, format="json"
    )
    assert response.status_code == 400
    assert "admin_access" in response.json()
    assert not User.objects.filter(username="ben").exists()


def test_an_admin_grants_admin_access_to_a_manager(admin_client, manager_user):
    response = admin_client.patch(
        f"/api/users/{manager_user.pk}/", {"admin_access": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["admin_access"] is True
    manager_user.refresh_from_db()
    assert manager_user.admin_access is True
    listed = admin_client.get("/api/users/").json()["results"]
    assert {u["username"]: u["admin_access"] for u in listed}["mike"] is True


def test_granting_admin_access_to_a_sales_rep_is_400(admin_client, sales_user):
    response = admin_client.patch(
        f"/api/users/{sales_user.pk}/", {"admin_access": True}, format="json"
    )
    assert response.status_code == 400
    assert "admin_access" in response.json()
    sales_user.refresh_from_db()
    assert sales_user.admin_access is False


def test_demoting_a_user_with_admin_access_to_sales_alone_is_400(admin_client, organization):
    """A demotion never leaves a sales rep with admin access: it is refused unless the same
    request takes the access away (API.md: only for admin and manager, else 400)."""
    ben = UserFactory(organization=organization, role=Role.MANAGER, admin_access=True)

    refused = admin_client.patch(f"/api/users/{ben.pk}/", {"role": "sales"}, format="json")

    assert refused.status_code == 400
    assert "admin_access" in refused.json()
    ben.refresh_from_db()
    assert (ben.role, ben.admin_access) == (Role.MANAGER, True)

    done = admin_client.patch(
        f"/api/users/{ben.pk}/", {"role": "sales", "admin_access": False}, format="json"
    )

    assert done.status_code == 200
    assert (done.json()["role"], done.json()["admin_access"]) == ("sales", False)
    ben.refresh_from_db()
    assert (ben.role, ben.admin_access) == (Role.SALES, False)


def test_a_full_put_keeps_the_rule(admin_client, organization):
    ben = UserFactory(organization=organization, role=Role.MANAGER, admin_access=True)
    body = {"username": ben.username, "email": ben.email, "role": "sales", "admin_access": True}
    assert admin_client.put(f"/api/users/{ben.pk}/", body, format="json").status_code == 400
    body["admin_access"] = False
    assert admin_client.put(f"/api/users/{ben.pk}/", body, format="json").status_code == 200


def test_only_org_admins_set_admin_access(manager_client, manager_user):
    response = manager_client.patch(
        f"/api/users/{manager_user.pk}/", {"admin_access": True}, format="json"
    )
    assert response.status_code == 403
    manager_user.refresh_from_db()
    assert manager_user.admin_access is False


def test_another_organizations_user_cannot_be_let_in(admin_client, other_admin_user):
    response = admin_client.patch(
        f"/api/users/{other_admin_user.pk}/", {"admin_access": True}, format="json"
    )
    assert response.status_code == 404
    other_admin_user.refresh_from_db()
    assert other_admin_user.admin_access is False


def test_me_keeps_its_shape(admin_client, admin_user):
    admin_user.admin_access = True
    admin_user.save(update_fields=["admin_access"])
    body = admin_client.get("/api/users/me/").json()
    assert set(body) == {
        "id", "username", "email", "first_name", "last_name", "role", "organization",
    }  # fmt: skip
