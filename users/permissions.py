from rest_framework import permissions

from users.models import Role


class RolePermission(permissions.DjangoModelPermissions):
    """The caller's role (a Django group) must hold the model permission for the method.

    Unlike DRF's default, reading needs `view_<model>` too. Checked before the object is
    looked up, so a role that lacks the permission gets 403 whatever the id.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            return True  # let the view answer 405: the method is not offered at all
        return super().has_permission(request, view)


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
