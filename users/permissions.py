from rest_framework import permissions

from users.models import Role


class HasRole(permissions.BasePermission):
    """A member of an organization with any of `roles` (all of them by default), e.g. reports."""

    roles = tuple(Role.values)

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated) or user.organization_id is None:
            return False
        return user.is_superuser or user.role in self.roles


def role_of(request) -> str | None:
    """The caller's role, read once per request."""
    if not hasattr(request, "_stockroom_role"):
        user = request.user
        request._stockroom_role = user.role if user and user.is_authenticated else None
    return request._stockroom_role


def is_sales_rep(request) -> bool:
    return role_of(request) == Role.SALES
