"""The signed-in user comes from the shared cache (users.selectors.signed_in_user): one round
trip instead of the user, role and permission queries, and never stale: a change of the user,
their role, their organization or their role's permissions holds from the next request on."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches

from core import cache as versioned
from tests.support.api import client_for
from users.models import Role, User
from users.selectors import signed_in_key, signed_in_user

pytestmark = pytest.mark.django_db
ME = "/api/users/me/"
MOVEMENT = "/api/stock/movements/"


def test_the_second_request_reads_no_user(manager_client, django_assert_max_num_queries):
    assert manager_client.get(ME).status_code == 200
    with django_assert_max_num_queries(0):
        body = manager_client.get(ME).json()
    assert (body["username"], body["role"], body["organization"]["name"]) == (
        "mike",
        "manager",
        "Corner Shop",
    )


def test_a_deactivated_user_is_refused_at_once(admin_client, manager_user, manager_client):
    assert manager_client.get(ME).status_code == 200  # cached now
    response = admin_client.patch(f"/api/users/{manager_user.pk}/", {"is_active": False})
    assert response.status_code == 200

    assert manager_client.get(ME).status_code == 401


def test_a_new_role_holds_from_the_next_request(admin_client, manager_user, manager_client):
    assert manager_client.get("/api/categories/").status_code == 200
    assert manager_client.post("/api/categories/", {"name": "Tea"}).status_code == 201

    assert (
        admin_client.patch(f"/api/users/{manager_user.pk}/", {"role": "sales"}).status_code == 200
    )

    assert manager_client.post("/api/categories/", {"name": "Coffee"}).status_code == 403
    assert manager_client.get(ME).json()["role"] == "sales"


def test_a_deleted_user_is_refused(admin_client, manager_user, manager_client):
    assert manager_client.get(ME).status_code == 200
    assert admin_client.delete(f"/api/users/{manager_user.pk}/").status_code == 204
    assert manager_client.get(ME).status_code == 401


def test_a_renamed_organization_shows_at_once(manager_client, organization):
    assert manager_client.get(ME).json()["organization"]["name"] == "Corner Shop"
    organization.name = "Corner Shop & Café"
    organization.save()
    assert manager_client.get(ME).json()["organization"]["name"] == "Corner Shop & Café"


def test_a_roles_permissions_hold_from_the_next_request(manager_client):
    assert manager_client.get("/api/categories/").status_code == 200
    managers = Group.objects.get(name=Role.MANAGER)
    view = Permission.objects.get(codename="view_category")

    managers.permissions.remove(view)
    assert manager_client.get("/api/categories/").status_code == 403
    view.group_set.add(managers)  # from the other side of the relation
    assert manager_client.get("/api/categories/").status_code == 200
    managers.user_set.clear()  # nobody is a manager any more
    assert manager_client.get("/api/categories/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_request_holds_after_its_commit(organization):
    sam = User.objects.create_user("sam2", password="x-Strong-Pass-2026", organization=organization)
    sam.groups.add(Group.objects.get(name=Role.SALES))
    client = client_for(sam)
    assert client.get(ME).json()["role"] == "sales"

    sam.groups.set([Group.objects.get(name=Role.MANAGER)])  # committed at once (autocommit)

    assert client.get(ME).json()["role"] == "manager"


def test_nothing_is_cached_while_the_shared_cache_is_down(manager_user, monkeypatch):
    cache = caches["default"]
    assert signed_in_user(manager_user.pk).username == "mike"
    monkeypatch.setattr(type(cache), "is_down", True, raising=False)
    User.objects.filter(pk=manager_user.pk).update(first_name="Changed")  # no signal

    assert signed_in_user(manager_user.pk).first_name == "Changed"
    assert versioned.cached_version(signed_in_key(manager_user.pk)) == (None, None)


def test_a_process_that_saw_redis_down_starts_a_new_epoch_when_it_is_back(manager_user):
    cache = caches["default"]
    if not hasattr(cache, "_move_epoch_on"):
        pytest.skip("needs Redis (set REDIS_URL=redis://...)")
    signed_in_user(manager_user.pk)  # cached at this epoch
    assert versioned.cached_version(signed_in_key(manager_user.pk))[0] is not None

    cache._missed = True  # Redis failed this process earlier: versions it moved may be lost
    cache.get("anything")  # Redis answers again

    assert versioned.cached_version(signed_in_key(manager_user.pk))[0] is None
