from django.contrib.auth.models import Group, Permission
from rest_framework import serializers

from core.currencies import CurrencyField
from core.errors import BrokenRule
from users.models import DIGEST_HOURS, Organization, Role, User
from users.services import check_time_zone


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


def known_time_zone(value: str) -> None:
    """The service's check, said with the other fields' errors."""
    try:
        check_time_zone(value)
    except BrokenRule as refusal:
        raise serializers.ValidationError(str(refusal.message)) from refusal


def time_zone_input(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=64,
        validators=[known_time_zone],
        help_text="An IANA time zone name (`Europe/Paris`, `America/New_York`): the "
        "organization's today, date ranges, report periods and digest hour are local to it.",
        **kwargs,
    )


def currency_input(**kwargs) -> CurrencyField:
    return CurrencyField(
        help_text="An ISO 4217 currency code: every amount of the organization is in it.",
        **kwargs,
    )


class OrganizationSettingsSerializer(serializers.ModelSerializer):
    """`/api/organization/`: the caller's organization and its settings (API.md)."""

    name = serializers.CharField(max_length=200)
    time_zone = time_zone_input()
    currency = currency_input()
    digest_hour = serializers.IntegerField(
        min_value=DIGEST_HOURS.start,
        max_value=DIGEST_HOURS.stop - 1,
        help_text="The local hour (0-23) at which the daily digest goes out.",
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "time_zone", "currency", "digest_hour", "created_at"]
        read_only_fields = ["id", "created_at"]


class UserSerializer(serializers.ModelSerializer):
    """A user as clients see it (`/api/users/me/`, register, login, user management)."""

    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)
    organization = OrganizationSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "organization"]
        read_only_fields = ["id", "username"]


PASSWORD_ENDPOINT = "/api/users/me/password/"


class MeSerializer(UserSerializer):
    email = serializers.EmailField(required=False, allow_blank=False, max_length=254)

    def validate(self, attrs):
        # Never silently ignored: the caller would believe the password changed.
        if isinstance(self.initial_data, dict) and "password" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "password": [
                        f"A password is changed with POST {PASSWORD_ENDPOINT} "
                        "(old_password, new_password)."
                    ]
                }
            )
        return attrs


def _password_field(**kwargs):
    return serializers.CharField(max_length=128, style={"input_type": "password"}, **kwargs)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = _password_field(write_only=True)
    new_password = _password_field(write_only=True)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = _password_field(write_only=True)


def _username_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username).exists()


class UsernameField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            r"^[\w.@+-]+\Z",
            max_length=150,
            error_messages={
                "invalid": "Letters, digits and @/./+/-/_ only.",
            },
            **kwargs,
        )


class RegisterSerializer(serializers.Serializer):
    username = UsernameField()
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    organization = serializers.CharField(required=False, allow_blank=True, max_length=200)
    time_zone = time_zone_input(required=False)
    currency = currency_input(required=False)

    def validate_username(self, value):
        if _username_taken(value):
            raise serializers.ValidationError("A user with that username already exists.")
        return value


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class LoginResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token = serializers.CharField()
    user = UserSerializer()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False)


class UserAdminSerializer(UserSerializer):
    """Org admins manage their teammates: role, admin access and password are writable."""

    username = UsernameField()
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(
        write_only=True, required=False, max_length=128, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_active", "admin_access", "password"]
        read_only_fields = ["id"]

    def validate_username(self, value):
        if self.instance is not None and self.instance.username.lower() == value.lower():
            return value
        if _username_taken(value):
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["This field is required."]})
        return attrs


class GroupSerializer(serializers.ModelSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "permissions"]

    def get_permissions(self, group) -> list[str]:
        return sorted(
            f"{perm.content_type.app_label}.{perm.codename}" for perm in group.permissions.all()
        )


class PermissionSerializer(serializers.ModelSerializer):
    app_label = serializers.CharField(source="content_type.app_label", read_only=True)
    model = serializers.CharField(source="content_type.model", read_only=True)

    class Meta:
        model = Permission
        fields = ["id", "name", "codename", "app_label", "model"]
