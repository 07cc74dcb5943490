"""Org-scoped user management (`/api/users/`) and the role listings, admin only."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory
from tests.support.api import client_for
from users.models import Role, User


def new_user(**overrides):
    body = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password": "stock-room-passphrase-42",
        "role": "sales",
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_admin_lists_only_their_organizations_users(
    admin_user, manager_user, sales_user, other_admin_user, scheme
):
    response = client_for(admin_user, scheme=scheme).get("/api/users/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [u["username"] for u in body["results"]] == ["alice", "mike", "sam"]
    assert {u["role"] for u in body["results"]} == {"admin", "manager", "sales"}
    assert "password" not in response.content.decode()


@pytest.mark.django_db
def test_user_list_query_count_does_not_grow_with_users(
    admin_client, organization, django_assert_max_num_queries
):
    UserFactory.create_batch(30, organization=organization, role=Role.SALES)
    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/users/?page_size=50")
    assert response.json()["count"] == 31


@pytest.mark.django_db
def test_user_detail_query_count_is_pinned(
    admin_client, manager_user, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        assert admin_client.get(f"/api/users/{manager_user.pk}/").status_code == 200


@pytest.mark.django_db
def test_user_list_filters_by_role_and_searches(admin_client, manager_user, sales_user):
    assert [
        u["username"] for u in admin_client.get("/api/users/?role=sales").json()["results"]
    ] == ["sam"]
    found = admin_client.get("/api/users/?search=MIK").json()["results"]
    assert [u["username"] for u in found] == ["mike"]
    assert admin_client.get("/api/users/?role=owner").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager", "sales"])
@pytest.mark.parametrize(
    ("method", "path_kind"),
    [
        ("get", "list"),
        ("post", "list"),
        ("get", "own"),
        ("patch", "own"),
        ("delete", "own"),
        ("get", "foreign"),
        ("delete", "foreign"),
    ],
)
def test_non_admins_get_403_on_user_management_whatever_the_id(
    who, method, path_kind, manager_user, sales_user, admin_user, other_admin_user
):
    caller = manager_user if who == "manager" else sales_user
    target = {"list": None, "own": admin_user, "foreign": other_admin_user}[path_kind]
    path = "/api/users/" if target is None else f"/api/users/{target.pk}/"

    response = getattr(client_for(caller), method)(path, new_user(), format="json")

    assert response.status_code == 403
    assert User.objects.filter(pk=admin_user.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_organizations_user_is_404(admin_client, other_admin_user, method):
    response = getattr(admin_client, method)(
        f"/api/users/{other_admin_user.pk}/", {"email": "x@example.com"}, format="json"
    )
    assert response.status_code == 404
    other_admin_user.refresh_from_db()
    assert other_admin_user.email == "oscar@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_a_platform_superuser_in_the_organization_is_out_of_the_org_admins_reach(
    admin_client, organization, method
):
    root = User.objects.create_superuser("root", "root@example.com", "Platform-Pass-2026!")
    User.objects.filter(pk=root.pk).update(organization=organization)

    response = getattr(admin_client, method)(
        f"/api/users/{root.pk}/", {"email": "x@example.com", "password": "Take-Over-2026!"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 404
    root.refresh_from_db()
    assert (root.email, root.check_password("Platform-Pass-2026!")) == ("root@example.com", True)
    listed = admin_client.get("/api/users/").json()["results"]
    assert "root" not in {user["username"] for user in listed}


@pytest.mark.django_db
def test_admin_adds_a_teammate_who_can_log_in_with_that_role(admin_client, api_client, admin_user):
    response = admin_client.post("/api/users/", new_user(role="manager"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert "password" not in body
    assert body["role"] == "manager"
    assert body["organization"]["id"] == admin_user.organization_id
    login = api_client.post(
        "/api/login/",
        {"username": "newbie", "password": "stock-room-passphrase-42"},
        format="json",
    )
    assert login.status_code == 200
    assert login.json()["user"]["role"] == "manager"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"role": None}, "role"),
        ({"password": "123"}, "password"),
        ({"password": None}, "password"),
        ({"username": "ALICE"}, "username"),
        ({"email": "nope"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
    ],
)
def test_adding_a_user_with_bad_input_is_400(admin_client, admin_user, overrides, field):
    body = new_user(**overrides)
    if overrides.get("password", "x") is None:
        del body["password"]
    response = admin_client.post("/api/users/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_admin_changes_a_role(admin_client, sales_user):
    response = admin_client.patch(
        f"/api/users/{sales_user.pk}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    assert list(User.objects.get(pk=sales_user.pk).groups.values_list("name", flat=True)) == [
        "manager"
    ]


@pytest.mark.django_db
def test_admin_resets_a_password_and_old_tokens_stop_working(admin_client, sales_user, api_client):
    token_client = client_for(sales_user, scheme="Token")
    response = admin_client.patch(
        f"/api/users/{sales_user.pk}/", {"password": "a-fresh-secret-phrase"}, format="json"
    )
    assert response.status_code == 200
    assert token_client.get("/api/users/me/").status_code == 401
    ok = api_client.post(
        "/api/login/", {"username": "sam", "password": "a-fresh-secret-phrase"}, format="json"
    )
    assert ok.status_code == 200


@pytest.mark.django_db
def test_demoting_the_last_admin_is_409(admin_client, admin_user, manager_user):
    response = admin_client.patch(
        f"/api/users/{admin_user.pk}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 409
    assert "detail" in response.json()
    assert User.objects.get(pk=admin_user.pk).role == "admin"


@pytest.mark.django_db
def test_deactivating_the_last_admin_is_409(admin_client, admin_user):
    response = admin_client.patch(
        f"/api/users/{admin_user.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 409
    assert User.objects.get(pk=admin_user.pk).is_active


@pytest.mark.django_db
def test_deleting_the_last_admin_is_409(admin_client, admin_user):
    assert admin_client.delete(f"/api/users/{admin_user.pk}/").status_code == 409
    assert User.objects.filter(pk=admin_user.pk).exists()


@pytest.mark.django_db
def test_an_admin_can_be_removed_while_another_remains(admin_client, admin_user, organization):
    second = UserFactory(organization=organization, role=Role.ADMIN)

    assert (
        admin_client.patch(f"/api/users/{second.pk}/", {"role": "sales"}, format="json").status_code
        == 200
    )
    assert (
        admin_client.patch(f"/api/users/{second.pk}/", {"role": "admin"}, format="json").status_code
        == 200
    )
    assert admin_client.delete(f"/api/users/{second.pk}/").status_code == 204
    assert not User.objects.filter(pk=second.pk).exists()


@pytest.mark.django_db
def test_the_last_admin_of_another_organization_does_not_count(
    admin_client, admin_user, other_admin_user
):
    assert admin_client.delete(f"/api/users/{admin_user.pk}/").status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(organization):
    import threading

    from django.db import connection

    first = UserFactory(organization=organization, role=Role.ADMIN)
    second = UserFactory(organization=organization, role=Role.ADMIN)
    barrier = threading.Barrier(2)
    statuses = []

    def demote(caller, target):
        try:
            client = client_for(caller)
            barrier.wait(timeout=10)
            response = client.patch(f"/api/users/{target.pk}/", {"role": "sales"}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Whichever ran second is no longer an admin (403) or found no other admin left (409).
    assert sorted(statuses)[0] == 200
    assert sorted(statuses)[1] in (403, 409)
    assert User.objects.filter(organization=organization, groups__name="admin").count() == 1


@pytest.mark.django_db
def test_groups_list_the_roles_with_their_permissions(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/groups/")

    assert response.status_code == 200
    roles = {g["name"]: g for g in response.json()["results"]}
    assert set(roles) == {"admin", "manager", "sales"}
    assert "users.add_user" in roles["admin"]["permissions"]
    assert "users.add_user" not in roles["manager"]["permissions"]


@pytest.mark.django_db
def test_permissions_list_is_paginated_and_filterable(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = admin_client.get(
            "/api/permissions/?content_type__app_label=inventory&page_size=100"
        )

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == Permission.objects.filter(content_type__app_label="inventory").count()
    assert {"id", "name", "codename", "app_label", "model"} == set(body["results"][0])
    assert {p["app_label"] for p in body["results"]} == {"inventory"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/groups/", "/api/permissions/"])
def test_role_listings_are_admin_only(manager_client, sales_client, api_client, path):
    assert manager_client.get(path).status_code == 403
    assert sales_client.get(path).status_code == 403
    assert api_client.get(path).status_code == 401


@pytest.mark.django_db
def test_roles_cannot_be_edited_through_the_api(admin_client):
    assert admin_client.post("/api/groups/", {"name": "owner"}, format="json").status_code == 405


@pytest.mark.django_db
def test_a_user_without_organization_is_refused_tenant_data(admin_user):
    stray = UserFactory(organization=None, role=Role.ADMIN, is_superuser=True)
    client = client_for(stray)
    for path in ("/api/users/", "/api/products/", "/api/dashboard/"):
        assert client.get(path).status_code == 403
    assert client.post("/api/categories/", {"name": "Tea"}, format="json").status_code == 403


@pytest.mark.django_db
def test_unknown_ordering_is_ignored(admin_client, manager_user, sales_user):
    response = admin_client.get("/api/users/?ordering=password")
    assert response.status_code == 200
    assert [u["username"] for u in response.json()["results"]] == ["alice", "mike", "sam"]
    reverse = admin_client.get("/api/users/?ordering=-username").json()["results"]
    assert [u["username"] for u in reverse] == ["sam", "mike", "alice"]


def test_page_size_defaults_to_20_and_is_capped_at_500():
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from core.api import PageNumberPagination

    def size(query):
        return PageNumberPagination().get_page_size(Request(APIRequestFactory().get("/" + query)))

    assert size("") == 20
    assert size("?page_size=7") == 7
    assert size("?page_size=100000") == 500
    assert size("?page_size=abc") == 20
