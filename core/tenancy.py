"""Tenancy in one place: every scoped view and related field goes through these two classes."""

from django.db.models import BigIntegerField, Value
from django.db.models.functions import Cast
from rest_framework import serializers

# The tenant: every organization-owned model has an `organization` foreign key to it.
ORGANIZATION_MODEL = "users.Organization"

# Cost figures (cost price, average and unit costs, margins) need this permission: the
# `sales` role lacks it, so they answer null (API.md, Conventions).
COST_PERMISSION = "inventory.view_costs"


def organization_key(organization_id: int) -> Cast:
    """The organization's id as the database's bigint (`%s::bigint`), not the int4 literal a
    Python int becomes: the btree_gin key of a GIN index (the products' search indexes) is an
    int8 operator class without cross-type operators (before PostgreSQL 18), so only a bigint
    lets the index find the shop's rows itself; B-tree indexes serve it as before."""
    return Cast(Value(organization_id), output_field=BigIntegerField())


def sees_costs(user) -> bool:
    return user is not None and user.has_perm(COST_PERMISSION)


def recorded_user(user):
    """The user a row records as having done it (a movement's, an order's, a document's): None
    for no one (a task, a command) or an anonymous user."""
    return user if getattr(user, "pk", None) else None


class OrganizationScopedMixin:
    """Scope a view's queryset to the caller's organization: another organization's object is
    simply not in the queryset, so it answers 404. Callers without an organization get 403."""

    def check_permissions(self, request):
        super().check_permissions(request)
        if getattr(request.user, "organization_id", None) is None:
            # e.g. a superuser made with createsuperuser: it owns no tenant data.
            self.permission_denied(request, message="You do not belong to an organization.")

    @property
    def organization_id(self) -> int:
        """The caller's organization, for views that aggregate rather than list a queryset."""
        return self.request.user.organization_id

    @property
    def organization(self):
        """The caller's organization (loaded with the signed-in user), None without one (the
        schema's views): `core.dates.local_today(self.organization)` is its today."""
        return getattr(self.request.user, "organization", None)

    def get_queryset(self):
        return self.scoped(super().get_queryset())

    def scoped(self, queryset):
        """The caller's organization's rows of `queryset` (none for a caller without one)."""
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        organization_id = getattr(self.request.user, "organization_id", None)
        if organization_id is None:
            return queryset.none()
        return queryset.filter(organization_id=organization_key(organization_id))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["hide_costs"] = not sees_costs(self.request.user)
        return context


class OrganizationPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that only accepts objects of the caller's organization.

    Another organization's id is answered exactly like an id that does not exist (400).
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        organization_id = getattr(getattr(request, "user", None), "organization_id", None)
        if organization_id is None:
            return queryset.none()
        return queryset.filter(organization_id=organization_id)
