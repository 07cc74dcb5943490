"""Rules about organizations, their users and roles."""

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.errors import Conflict
from users.models import Organization, Role, User


def _validate_new_password(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _save_new_user(user: User) -> None:
    """Insert the user; a username taken meanwhile by a concurrent request is a 400."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        if User.objects.filter(username__iexact=user.username).exists():
            raise ValidationError(
                {"username": ["A user with that username already exists."]}
            ) from exc
        raise


def set_role(*, user: User, role: str) -> None:
    """A user holds exactly one role group."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
    user.groups.add(Group.objects.get(name=role))


def register_user(*, username: str, email: str, password: str, organization_name: str = "") -> User:
    """Registering creates a new organization whose first user is its admin."""
    user = User(username=username, email=email)
    _validate_new_password(password=password, user=user)
    with transaction.atomic():
        organization = Organization.objects.create(
            name=organization_name.strip() or f"{username}'s organization"
        )
        user.organization = organization
        user.set_password(password)
        _save_new_user(user)
        set_role(user=user, role=Role.ADMIN)
    return user


def create_user(
    *,
    organization: Organization,
    username: str,
    email: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
) -> User:
    """An org admin adds a teammate with a role."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
        organization=organization,
    )
    _validate_new_password(password=password, user=user)
    with transaction.atomic():
        user.set_password(password)
        _save_new_user(user)
        set_role(user=user, role=role)
    return user


def end_sessions(*, user: User) -> None:
    """A new password ends what the old one opened: the DRF token is deleted and every refresh
    token of the user is blacklisted (access JWTs run out within their short lifetime)."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    Token.objects.filter(user=user).delete()
    outstanding = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


def lock_organization(organization_id: int) -> None:
    """Lock the organization's row (FOR NO KEY UPDATE): whatever must happen one at a time in
    an organization queues on it (role changes that could leave it without an admin; order
    numbering)."""
    Organization.objects.select_for_update(no_key=True).filter(pk=organization_id).first()


def _ensure_other_admin(user: User) -> None:
    others = (
        User.objects.filter(
            organization_id=user.organization_id, groups__name=Role.ADMIN, is_active=True
        )
        .exclude(pk=user.pk)
        .exists()
    )
    if not others:
        raise Conflict("The organization's last admin cannot be removed or demoted.")


def _lock_user(pk: int) -> User:
    """The user's row, locked, with its role read after the lock (not from a stale cache)."""
    return User.objects.select_for_update(no_key=True).get(pk=pk)


def update_profile(*, user: User, **fields) -> User:
    """A user edits their own contact details (email, names); nothing else changes."""
    with transaction.atomic():
        locked = _lock_user(user.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        if fields:
            locked.save(update_fields=list(fields))
    return locked


def update_user(*, user: User, role: str | None = None, password: str | None = None, **fields):
    """Change a user's details, role or password; the last admin stays an admin."""
    with transaction.atomic():
        lock_organization(user.organization_id)
        locked = _lock_user(user.pk)
        leaves_admin = locked.role == Role.ADMIN and (
            (role is not None and role != Role.ADMIN) or fields.get("is_active") is False
        )
        if leaves_admin:
            _ensure_other_admin(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        changed = list(fields)
        if password is not None:
            _validate_new_password(password=password, user=locked)
            locked.set_password(password)
            changed.append("password")
        if changed:
            locked.save(update_fields=changed)
        if role is not None:
            set_role(user=locked, role=role)
        if password is not None:
            end_sessions(user=locked)
    return locked


def delete_user(*, user: User) -> None:
    """Remove a user from the organization; the last admin cannot be removed."""
    with transaction.atomic():
        lock_organization(user.organization_id)
        locked = _lock_user(user.pk)
        if locked.role == Role.ADMIN:
            _ensure_other_admin(locked)
        locked.delete()
