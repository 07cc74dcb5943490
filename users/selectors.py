from users.models import ADMIN_ACCESS_ROLES, User


def users_with_roles():
    """Users with what their representation needs, in a constant number of queries."""
    return User.objects.select_related("organization").prefetch_related("groups")


def may_use_admin(user) -> bool:
    """Who signs in to the Django admin: the platform's superusers (active staff, as
    `createsuperuser` makes them), and an organization's active admins and managers whom its
    admin let in (`admin_access`). `is_staff` alone opens nothing."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return user.is_staff
    return bool(
        user.admin_access and user.organization_id is not None and user.role in ADMIN_ACCESS_ROLES
    )
