"""Rules about organizations, their users and roles."""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from core import audit
from core.cache import figures_changed
from core.currencies import is_currency
from core.dates import database_knows_time_zone, is_known_time_zone
from core.db import lock_row, update_under_lock
from core.errors import BrokenRule, Conflict, LoginRefused, NotFound
from users import password_resets
from users.models import ADMIN_ACCESS_ROLES, DIGEST_HOURS, Organization, Role, User
from users.throttling import login_attempt


def _validate_new_password(*, password: str, user: User, field: str = "password") -> None:
    """Django's password validators; their refusal is a BrokenRule on `field`."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise BrokenRule({field: exc.messages}) from exc


def _save_new_user(user: User) -> None:
    """Insert the user; a username taken meanwhile by a concurrent request is a 400."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        if User.objects.filter(username__iexact=user.username).exists():
            raise BrokenRule("A user with that username already exists.", field="username") from exc
        raise


def set_role(*, user: User, role: str) -> None:
    """A user holds exactly one role group."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
    user.groups.add(Group.objects.get(name=role))


def check_admin_access(*, role: str | None, admin_access: bool) -> None:
    """Only admins and managers may be let into the Django admin: `admin_access` for any other
    role (a sales rep, or a user demoted to sales who still has it) is refused."""
    if admin_access and role not in ADMIN_ACCESS_ROLES:
        raise BrokenRule(
            "Only admins and managers can have admin access "
            "(send admin_access false with the sales role).",
            field="admin_access",
        )


def check_time_zone(time_zone: str) -> None:
    """An IANA name that both Python and the database compute with (API.md, Organization)."""
    if not is_known_time_zone(time_zone) or not database_knows_time_zone(time_zone):
        raise BrokenRule(
            f"Unknown time zone {time_zone!r}: give an IANA name such as Europe/Paris, "
            "America/New_York or UTC.",
            field="time_zone",
        )


def check_currency(currency: str) -> None:
    if not is_currency(currency):
        raise BrokenRule(
            f"Unknown currency {currency!r}: give an ISO 4217 code such as EUR, USD or NZD.",
            field="currency",
        )


def check_digest_hour(digest_hour: int) -> None:
    if not isinstance(digest_hour, int) or digest_hour not in DIGEST_HOURS:
        raise BrokenRule("A digest hour is a whole hour from 0 to 23.", field="digest_hour")


def checked_settings(
    *, time_zone: str | None = None, currency: str | None = None, digest_hour: int | None = None
) -> dict:
    """The organization settings given (None: not given), each checked (a BrokenRule names
    the first that is not what an organization may have)."""
    checks = {
        "time_zone": (time_zone, check_time_zone),
        "currency": (currency, check_currency),
        "digest_hour": (digest_hour, check_digest_hour),
    }
    given = {}
    for field, (value, check) in checks.items():
        if value is not None:
            check(value)
            given[field] = value
    return given


# What the audit trail records of a user (never a password: only that it changed).
USER_AUDITED = ("username", "email", "role", "admin_access", "is_active")
ORGANIZATION_AUDITED = ("name", "time_zone", "currency", "digest_hour")


def _user_state(user: User, role: str | None = None) -> dict:
    state = audit.snapshot(user, ("username", "email", "admin_access", "is_active"))
    state["role"] = role if role is not None else user.role
    return state


def _audit_user(user: User, *, action: str, before: dict, role: str | None = None, **extra):
    changes = audit.diff(before, _user_state(user, role)) if action != audit.Action.DELETE else {}
    changes.update(extra)
    audit.record(organization_id=user.organization_id, action=action, obj=user, changes=changes)


def user_state(pk: int) -> dict:
    """A user's audited fields as stored now (before an edit that is not this module's)."""
    user = User.objects.filter(pk=pk).first()
    return _user_state(user) if user is not None else {}


def record_user_saved(*, user: User, before: dict, created: bool) -> None:
    """The audit row of a user saved by Django's own admin form (a superuser's)."""
    after = audit.snapshot(user, ("username", "email", "admin_access", "is_active"))
    audit.record(
        organization_id=user.organization_id,
        action=audit.Action.CREATE if created else audit.Action.UPDATE,
        obj=user,
        changes=audit.diff({k: v for k, v in before.items() if k in after}, after),
    )


def register_user(
    *,
    username: str,
    email: str,
    password: str,
    organization_name: str = "",
    time_zone: str | None = None,
    currency: str | None = None,
) -> User:
    """Registering creates a new organization whose first user is its admin; it lives in
    `time_zone` and keeps its money in `currency` (default: DEFAULT_TIME_ZONE and
    DEFAULT_CURRENCY)."""
    user = User(username=username, email=email)
    _validate_new_password(password=password, user=user)
    settings_given = checked_settings(time_zone=time_zone, currency=currency)
    with transaction.atomic():
        organization = Organization.objects.create(
            name=organization_name.strip() or f"{username}'s organization", **settings_given
        )
        user.organization = organization
        user.set_password(password)
        _save_new_user(user)
        set_role(user=user, role=Role.ADMIN)
        _audit_user(user, action=audit.Action.CREATE, before={}, role=Role.ADMIN)
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
    admin_access: bool = False,
) -> User:
    """An org admin adds a teammate with a role (and, for an admin or manager, admin access)."""
    check_admin_access(role=role, admin_access=admin_access)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
        organization=organization,
        admin_access=admin_access,
    )
    _validate_new_password(password=password, user=user)
    with transaction.atomic():
        user.set_password(password)
        _save_new_user(user)
        set_role(user=user, role=role)
        _audit_user(user, action=audit.Action.CREATE, before={}, role=role)
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


@dataclass(frozen=True)
class Session:
    """What a login hands out: a JWT pair and the DRF token."""

    user: User
    access: str
    refresh: str
    token: str


def log_in(*, username: str, password: str, address: str, request=None) -> Session:
    """Check the credentials, throttled per username and client address: the attempt is
    counted before the check, and only a wrong password keeps its count (a success clears it,
    a failure to check gives it back). The session is issued under the user's row lock with
    the password read again: a login that checked a password which a concurrent change has just
    replaced is refused, never handed a DRF token that the change's end of sessions missed."""
    with login_attempt(username=username, address=address, refused=LoginRefused):
        user = authenticate(request, username=username, password=password)
        if user is None:
            raise LoginRefused("Invalid username or password.")
        with transaction.atomic():
            locked = lock_row(User.objects, user.pk)
            if locked is None or locked.password != user.password:
                raise LoginRefused("Invalid username or password.")
            refresh = RefreshToken.for_user(locked)
            token = issue_token(user=locked)
    return Session(
        user=locked, access=str(refresh.access_token), refresh=str(refresh), token=token.key
    )


def log_out(*, user: User, refresh: str | None = None) -> None:
    """Delete the user's DRF token and blacklist their refresh token, when one is given (an
    access JWT stays valid until it expires)."""
    token = None
    if refresh:
        try:
            token = RefreshToken(refresh)
        except TokenError as exc:
            raise BrokenRule(str(exc), field="refresh") from exc
        if str(token.get("user_id")) != str(user.pk):
            raise BrokenRule("Token is invalid", field="refresh")
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        if token is not None:
            token.blacklist()


def issue_token(*, user: User) -> Token:
    """The user's DRF token, a new one when the old one has expired (AUTH_TOKEN_DAYS)."""
    from users.authentication import token_expired

    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def _set_new_password(*, user: User, password: str, field: str, by: User | None) -> None:
    """Django's validators, then the new password, then every session of the old one ends;
    the audit trail records that it changed (never the password)."""
    _validate_new_password(password=password, user=user, field=field)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(
        organization_id=user.organization_id,
        action=audit.Action.UPDATE,
        obj=user,
        changes={"password": [None, audit.PASSWORD_CHANGED]},
        user=by,
    )
    end_sessions(user=user)


def change_password(*, user: User, old_password: str, new_password: str) -> None:
    """A user changes their own password: the old one must be right; every session ends."""
    with transaction.atomic():
        locked = _lock_user(user.pk)
        if not locked.check_password(old_password):
            raise BrokenRule("The old password is wrong.", field="old_password")
        _set_new_password(user=locked, password=new_password, field="new_password", by=locked)


def request_password_reset(*, email: str) -> None:
    """Write a reset request for the address into the outbox, whether or not an active user
    has it (the caller cannot tell the difference, not even by the time it takes); the email
    goes out after the answer (`users.tasks.deliver_password_resets_soon`), at most
    PASSWORD_RESET_MAX_PER_ADDRESS per address and window."""
    password_resets.record_reset_request(email=email)


def confirm_password_reset(*, uid: str, token: str, new_password: str) -> None:
    """Set the new password if the token is the user's and still valid; sessions end."""
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError, OverflowError):
        pk = None
    with transaction.atomic():
        user = User.objects.select_for_update(no_key=True).filter(pk=pk, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise BrokenRule("The reset link is invalid or has been used.", field="token")
        _set_new_password(user=user, password=new_password, field="new_password", by=user)


def update_organization(
    *,
    organization: Organization,
    name: str | None = None,
    time_zone: str | None = None,
    currency: str | None = None,
    digest_hour: int | None = None,
) -> Organization:
    """An org admin changes the organization's name or settings (API.md, Organization). Each
    applies from the next request: the signed-in users cached with it and the organization's
    cached figures (its "today" moves with its zone) are moved on after commit."""
    changes = checked_settings(time_zone=time_zone, currency=currency, digest_hour=digest_hour)
    if name is not None:
        if not name.strip():
            raise BrokenRule("An organization needs a name.", field="name")
        changes["name"] = name.strip()
    with transaction.atomic():
        locked = lock_row(Organization.objects, organization.pk)
        if locked is None:
            raise NotFound("The organization no longer exists.")
        changed = [field for field, value in changes.items() if getattr(locked, field) != value]
        before = audit.snapshot(locked, ORGANIZATION_AUDITED)
        for field in changed:
            setattr(locked, field, changes[field])
        if changed:
            locked.save(update_fields=changed)  # its users' cached sign-in moves on (signals)
            audit.record(
                organization_id=locked.pk,
                action=audit.Action.UPDATE,
                obj=locked,
                changes=audit.diff(before, audit.snapshot(locked, ORGANIZATION_AUDITED)),
            )
            figures_changed(locked.pk)
    return locked


def lock_organization(organization_id: int) -> None:
    """Lock the organization's row (FOR NO KEY UPDATE): whatever must happen one at a time in
    an organization queues on it (role changes that could leave it without an admin)."""
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
    user = lock_row(User.objects, pk)
    if user is None:
        raise NotFound("The user no longer exists.")
    return user


def update_profile(*, user: User, **fields) -> User:
    """A user edits their own contact details (email, names); nothing else changes."""
    return update_under_lock(user, fields, gone="The user no longer exists.")


def update_user(
    *,
    user: User,
    role: str | None = None,
    password: str | None = None,
    admin_access: bool | None = None,
    **fields,
):
    """Change a user's details, role, admin access or password; the last admin stays an admin,
    and only admins and managers keep admin access (demoting to sales takes it away in the
    same request, or is refused)."""
    with transaction.atomic():
        lock_organization(user.organization_id)
        locked = _lock_user(user.pk)
        check_admin_access(
            role=role if role is not None else locked.role,
            admin_access=admin_access if admin_access is not None else locked.admin_access,
        )
        if admin_access is not None:
            fields["admin_access"] = admin_access
        leaves_admin = locked.role == Role.ADMIN and (
            (role is not None and role != Role.ADMIN) or fields.get("is_active") is False
        )
        if leaves_admin:
            _ensure_other_admin(locked)
        before = _user_state(locked)
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
        password_changed = {"password": [None, audit.PASSWORD_CHANGED]} if password else {}
        _audit_user(
            locked, action=audit.Action.UPDATE, before=before, role=role, **password_changed
        )
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
        _audit_user(locked, action=audit.Action.DELETE, before={})
        locked.delete()
