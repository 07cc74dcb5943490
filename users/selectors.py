from core.cache import cached_version, store
from users.models import ADMIN_ACCESS_ROLES, User

# How long a signed-in user stays cached at most (a change moves its version on at once).
SIGNED_IN_SECONDS = 300


def users_with_roles():
    """Users with what their representation needs, in a constant number of queries."""
    return User.objects.select_related("organization").prefetch_related("groups")


def signed_in_key(user_id) -> str:
    return f"signed-in-user:{user_id}"


def signed_in_user(user_id) -> User | None:
    """The user a request acts as, with their organization, role (groups) and permissions
    loaded: from the shared cache at the user's current version (`users.signals` moves it on
    with every change of the user, their organization or their role's permissions), else from
    the database (4 queries), then cached. None when there is no such user."""
    key = signed_in_key(user_id)
    user, version = cached_version(key)
    if user is None:
        user = users_with_roles().filter(pk=user_id).first()
        if user is None:
            return None
        user.get_all_permissions()  # ModelBackend keeps them on the instance: cached with it
        store(key, version, user, timeout=SIGNED_IN_SECONDS)
    return user


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
