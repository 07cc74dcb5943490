from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class Organization(models.Model):
    """A shop or warehouse: the tenant that owns all inventory data."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

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
