"""Tenancy in one place: every scoped view and related field goes through these two classes."""

from rest_framework import serializers

# Cost figures (cost price, average and unit costs, margins) need this permission: the
# `sales` role lacks it, so they answer null (API.md, Conventions).
COST_PERMISSION = "inventory.view_costs"


def sees_costs(user) -> bool:
    return user is not None and user.has_perm(COST_PERMISSION)


class OrganizationScopedMixin:
    """Scope a view's queryset to the caller's organization and set it on create.

    Another organization's object is simply not in the queryset, so it answers 404.
    `organization_field` names the path to the organization for models that reach it
    through a relation.
    """

    organization_field = "organization"

    def check_permissions(self, request):
        super().check_permissions(request)
        if getattr(request.user, "organization_id", None) is None:
            # e.g. a superuser made with createsuperuser: it owns no tenant data.
            self.permission_denied(request, message="You do not belong to an organization.")

    @property
    def organization_id(self) -> int:
        """The caller's organization, for views that aggregate rather than list a queryset."""
        return self.request.user.organization_id

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        organization_id = getattr(self.request.user, "organization_id", None)
        if organization_id is None:
            return queryset.none()
        return queryset.filter(**{f"{self.organization_field}_id": organization_id})

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["hide_costs"] = not sees_costs(self.request.user)
        return context

    def perform_create(self, serializer):
        serializer.save(organization=self.request.user.organization)


class OrganizationPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that only accepts objects of the caller's organization.

    Another organization's id is answered exactly like an id that does not exist (400).
    """

    organization_field = "organization"

    def __init__(self, **kwargs):
        self.organization_field = kwargs.pop("organization_field", self.organization_field)
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        organization_id = getattr(getattr(request, "user", None), "organization_id", None)
        if organization_id is None:
            return queryset.none()
        return queryset.filter(**{f"{self.organization_field}_id": organization_id})
