"""The users admin for an org admin: their organization's users only (never a superuser), a
role and admin access instead of Django's staff, superuser, group and permission flags, and
the same rules as `/api/users/` (users.services): the last admin stays, only admins and
managers have admin access. A superuser keeps Django's full user admin."""

import pytest
from django.contrib.auth.models import Group
from django.db.models import Q
from django.urls import reverse

from tests.factories import UserFactory
from tests.support.admin import posted
from users.models import Role, User

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:users_user_changelist")
ADD = reverse("admin:users_user_add")


def change(user):
    return reverse("admin:users_user_change", args=[user.pk])


def test_an_org_admin_lists_only_their_organizations_users(
    owner, manager_user, sales_user, other_admin_user, organization
):
    UserFactory(username="root", organization=organization, is_superuser=True, is_staff=True)
    response = owner.get(CHANGELIST, secure=True)
    listed = {user.username for user in response.context["cl"].result_list}
    assert listed == {"alice", "mike", "sam"}
    assert owner.get(change(other_admin_user), secure=True).status_code == 302
    root = User.objects.get(username="root")
    assert owner.get(change(root), secure=True).status_code == 302  # a superuser is not theirs
    password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert owner.get(password, secure=True).status_code == 404


def test_the_form_has_a_role_and_admin_access_and_no_platform_flags(owner, sales_user):
    form = owner.get(change(sales_user), secure=True).context["adminform"].form
    assert {"role", "admin_access", "is_active"} <= set(form.fields)
    assert not {"is_superuser", "is_staff", "groups", "user_permissions", "organization"} & set(
        form.fields
    )
    assert form.fields["role"].initial == Role.SALES


def test_an_org_admin_lets_a_manager_in(owner, manager_user):
    page = owner.get(change(manager_user), secure=True)
    response = owner.post(change(manager_user), posted(page, admin_access="on"), secure=True)
    assert response.status_code == 302
    manager_user.refresh_from_db()
    assert manager_user.admin_access is True


def test_platform_flags_and_another_organization_posted_anyway_change_nothing(
    owner, manager_user, other_organization
):
    page = owner.get(change(manager_user), secure=True)
    data = posted(page, is_superuser="on", is_staff="on", organization=other_organization.pk,
                  groups=Group.objects.get(name="admin").pk, first_name="Mike")  # fmt: skip
    assert owner.post(change(manager_user), data, secure=True).status_code == 302
    manager_user = User.objects.get(pk=manager_user.pk)
    assert (manager_user.first_name, manager_user.role) == ("Mike", Role.MANAGER)
    assert not (manager_user.is_superuser or manager_user.is_staff)
    assert manager_user.organization_id != other_organization.pk


def test_admin_access_for_a_sales_rep_is_a_form_error(owner, sales_user, manager_user):
    page = owner.get(change(sales_user), secure=True)
    response = owner.post(change(sales_user), posted(page, admin_access="on"), secure=True)
    assert response.status_code == 200
    assert "admin_access" in response.context["adminform"].form.errors
    sales_user.refresh_from_db()
    assert sales_user.admin_access is False

    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    page = owner.get(change(manager_user), secure=True)
    demoted = owner.post(change(manager_user), posted(page, role="sales"), secure=True)
    assert "admin_access" in demoted.context["adminform"].form.errors
    assert User.objects.get(pk=manager_user.pk).role == Role.MANAGER


def test_an_org_admin_adds_a_teammate_to_their_organization(owner, organization):
    page = owner.get(ADD, secure=True)
    assert "organization" not in page.context["adminform"].form.fields
    data = {
        "username": "ben", "email": "ben@example.com", "role": "manager", "admin_access": "on",
        "password1": "violet-Harbour-19-moss", "password2": "violet-Harbour-19-moss",
    }  # fmt: skip

    response = owner.post(ADD, data, secure=True)

    assert response.status_code == 302
    ben = User.objects.get(username="ben")
    assert (ben.organization_id, ben.role, ben.admin_access) == (organization.pk, "manager", True)
    assert not (ben.is_staff or ben.is_superuser)
    assert ben.check_password("violet-Harbour-19-moss")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"username": "ALICE"}, "username"),
        ({"role": "sales", "admin_access": "on"}, "admin_access"),
        ({"email": ""}, "email"),
    ],
)
def test_a_bad_new_teammate_is_a_form_error(owner, changes, field):
    data = {
        "username": "ben", "email": "ben@example.com", "role": "manager",
        "password1": "violet-Harbour-19-moss", "password2": "violet-Harbour-19-moss", **changes,
    }  # fmt: skip
    response = owner.post(ADD, data, secure=True)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not User.objects.filter(Q(username="ben") | Q(email="ben@example.com")).exists()


def test_the_last_admin_cannot_be_demoted_or_deleted(owner, admin_user):
    page = owner.get(change(admin_user), secure=True)

    demoted = owner.post(change(admin_user), posted(page, role="manager"), secure=True, follow=True)

    assert demoted.status_code == 200
    assert "last admin" in demoted.content.decode()
    assert User.objects.get(pk=admin_user.pk).role == Role.ADMIN

    deleted = owner.post(reverse("admin:users_user_delete", args=[admin_user.pk]),
                         {"post": "yes"}, secure=True, follow=True)  # fmt: skip
    assert deleted.status_code == 200
    assert "last admin" in deleted.content.decode()
    bulk = owner.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [admin_user.pk],
                                   "post": "yes"}, secure=True, follow=True)  # fmt: skip
    assert "last admin" in bulk.content.decode()
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_an_org_admin_resets_a_teammates_password(owner, sales_user):
    from rest_framework.authtoken.models import Token

    Token.objects.create(user=sales_user)
    address = reverse("admin:auth_user_password_change", args=[sales_user.pk])
    new = "copper-Lantern-77-bay"
    response = owner.post(address, {"password1": new, "password2": new}, secure=True)
    assert response.status_code == 302
    assert User.objects.get(pk=sales_user.pk).check_password(new)
    assert not Token.objects.filter(user=sales_user).exists()


def test_a_superuser_keeps_djangos_user_admin(client, admin_user, other_admin_user):
    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    listed = {u.username for u in client.get(CHANGELIST, secure=True).context["cl"].result_list}
    assert {"alice", "oscar", "root"} <= listed
    form = client.get(change(other_admin_user), secure=True).context["adminform"].form
    assert {"is_superuser", "is_staff", "groups", "admin_access"} <= set(form.fields)


def test_a_superuser_cannot_let_a_sales_rep_in_either(client, sales_user):
    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    data = {
        "username": "sam", "email": "sam@example.com", "is_active": "on", "admin_access": "on",
        "groups": [Group.objects.get(name="sales").pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
    }  # fmt: skip

    response = client.post(change(sales_user), data, secure=True)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "admin_access": [
            "Only admins and managers can have admin access "
            "(send admin_access false with the sales role)."
        ]
    }
    assert User.objects.get(pk=sales_user.pk).admin_access is False
    data["groups"] = [Group.objects.get(name="manager").pk]
    assert client.post(change(sales_user), data, secure=True).status_code == 302
    assert User.objects.get(pk=sales_user.pk).admin_access is True
