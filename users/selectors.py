from users.models import User


def users_with_roles():
    """Users with what their representation needs, in a constant number of queries."""
    return User.objects.select_related("organization").prefetch_related("groups")
