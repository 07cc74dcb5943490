"""The cached signed-in user (users.selectors.signed_in_user) follows every change to what it
holds: the user row, their groups (role) and own permissions, their organization, and the
permissions of a role. Receivers only move versions on (core.cache.changed), after commit;
a change the shared cache could not be told about answers once every node will see it
(`settle`: access must not outlive a demotion on any node)."""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from core.cache import changed
from users.models import Organization, User
from users.selectors import signed_in_key


def _users_changed(user_ids) -> None:
    if user_ids:
        changed(*(signed_in_key(pk) for pk in user_ids), settle=True)


def user_saved(sender, instance, **kwargs):
    _users_changed([instance.pk])


def organization_saved(sender, instance, **kwargs):
    _users_changed(list(instance.users.values_list("pk", flat=True)))


# The m2m actions that change a relation; a clear is caught before it, while its rows are there.
CHANGES = ("post_add", "post_remove", "pre_clear")


def memberships_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A user's groups or own permissions, changed from either side of the relation."""
    if action not in CHANGES:
        return
    if not reverse:
        _users_changed([instance.pk])
    elif action == "pre_clear":
        _users_changed(list(instance.user_set.values_list("pk", flat=True)))
    else:
        _users_changed(pk_set)


def role_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A role's permissions: each of its members' permissions changed."""
    if action not in CHANGES:
        return
    if not reverse:
        groups = [instance.pk]
    elif action == "pre_clear":
        groups = list(instance.group_set.values_list("pk", flat=True))
    else:
        groups = list(pk_set)
    members = User.objects.filter(groups__in=groups).values_list("pk", flat=True).distinct()
    _users_changed(list(members))


def connect() -> None:
    uid = "users.signed_in_user"
    post_save.connect(user_saved, sender=User, dispatch_uid=f"{uid}.saved")
    post_delete.connect(user_saved, sender=User, dispatch_uid=f"{uid}.deleted")
    post_save.connect(organization_saved, sender=Organization, dispatch_uid=f"{uid}.organization")
    for through in (User.groups.through, User.user_permissions.through):
        m2m_changed.connect(memberships_changed, sender=through, dispatch_uid=f"{uid}.{through}")
    m2m_changed.connect(
        role_permissions_changed, sender=Group.permissions.through, dispatch_uid=f"{uid}.roles"
    )
