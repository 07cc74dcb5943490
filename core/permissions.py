"""Role checks every app shares: a role is a Django group holding model permissions."""

from rest_framework import permissions


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

    def _queryset(self, view):
        """Only the model is read from it: the view's declared queryset, not `get_queryset()`
        built once more (with every annotation) for that."""
        queryset = getattr(view, "queryset", None)
        return queryset if queryset is not None else super()._queryset(view)
