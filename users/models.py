from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

DIGEST_HOURS = range(24)


def default_time_zone() -> str:
    return settings.DEFAULT_TIME_ZONE


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


class Organization(models.Model):
    """A shop or warehouse: the tenant that owns all inventory data. It lives in its own time
    zone (its "today", its date ranges, its report periods, the hour of its digest) and keeps
    its money in one currency (API.md, Organization)."""

    name = models.CharField(max_length=200)
    # New organizations start with DEFAULT_TIME_ZONE and DEFAULT_CURRENCY; a row written
    # without them (raw SQL, an older migration's model) gets the database's UTC and USD.
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        db_default="UTC",
        help_text="An IANA time zone name.",
    )
    currency = models.CharField(
        max_length=3,
        default=default_currency,
        db_default="USD",
        help_text="An ISO 4217 currency code.",
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=7,
        db_default=7,
        help_text="The local hour (0-23) at which the daily digest goes out.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(digest_hour__gte=0, digest_hour__lte=23),
                name="users_organization_digest_hour_0_23",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="users_organization_currency_code",
            ),
            models.CheckConstraint(
                condition=~Q(time_zone=""), name="users_organization_time_zone_set"
            ),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """Roles are Django groups of these names, each with model permissions."""

    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Warehouse manager"
    SALES = "sales", "Sales rep"


# The roles whose members an org admin may let into the Django admin (`User.admin_access`).
ADMIN_ACCESS_ROLES = (Role.ADMIN, Role.MANAGER)


class User(AbstractUser):
    """A person who works for exactly one organization (superusers may have none)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    # Set by an org admin: the user may sign in to the Django admin and see their own
    # organization there (admins and managers only; users.selectors.may_use_admin).
    admin_access = models.BooleanField(
        default=False,
        help_text="May sign in to the organization's Django admin (admins and managers only).",
    )

    class Meta:
        ordering = ["username", "id"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="users_user_username_ci_unique"),
        ]
        indexes = [models.Index(fields=["organization", "username"])]

    @property
    def role(self) -> str | None:
        """The user's role: the name of the role group they belong to, if any.

        Reads the prefetched `groups` when present, so lists stay at a constant query count.
        """
        names = {group.name for group in self.groups.all()}
        for role in Role.values:
            if role in names:
                return role
        return None


class PasswordResetRequest(models.Model):
    """One request for a password-reset email to an address: the outbox the email goes out
    from (after the request has been answered: by a worker, in-process without a broker, or by
    the periodic sweep), and the record that limits how many requests an address gets.

    `user` is the account the email goes to; None when no active account has the address (no
    email, but the request is written and counted all the same, so that neither the answer nor
    its timing tells whether the address is known). The address is kept as a digest only.
    """

    address = models.CharField(max_length=64)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Not before: a claimed send holds it for a while, a failed one backs off.
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["address", "requested_at"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True, user__isnull=False),
                name="users_passwordreset_unsent",
            ),
        ]

    def __str__(self):
        return f"reset for user {self.user_id} at {self.requested_at:%Y-%m-%d %H:%M}"
