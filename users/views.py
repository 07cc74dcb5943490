from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer, TokenVerifySerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.views import (
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from core import db
from core.api import ResponseThen
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from users import selectors, services, tasks
from users.authentication import PASSWORD_CHANGED, issued_under_current_password
from users.models import Organization, Role, User
from users.serializers import (
    GroupSerializer,
    LoginResponseSerializer,
    LoginSerializer,
    LogoutSerializer,
    MeSerializer,
    OrganizationSettingsSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PermissionSerializer,
    RegisterSerializer,
    UserAdminSerializer,
    UserSerializer,
)
from users.throttling import client_address, login_attempt


def _fresh(user: User) -> User:
    return selectors.users_with_roles().get(pk=user.pk)


class RegisterView(APIView):
    """Create an organization and its first user, who becomes its admin."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.register_user(
            username=data["username"],
            email=data["email"],
            password=data["password"],
            organization_name=data.get("organization", ""),
            time_zone=data.get("time_zone"),
            currency=data.get("currency"),
        )
        db.wrote(user.pk)  # read-your-writes: their first reads see their new organization
        return Response(UserSerializer(_fresh(user)).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange a username and password for a JWT pair, a DRF token and the user."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request):
        # Bad credentials are a 401 (DRF answers 403 on views without an authenticator).
        return 'Bearer realm="api"'

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.log_in(
            **serializer.validated_data, address=client_address(request), request=request
        )
        return Response(
            {
                "access": session.access,
                "refresh": session.refresh,
                "token": session.token,
                "user": UserSerializer(_fresh(session.user)).data,
            }
        )


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """SimpleJWT's token pair endpoint, sharing the login failure counter."""

    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        # Wrong credentials are SimpleJWT's AuthenticationFailed: only they keep their count.
        with login_attempt(
            username=username, address=client_address(request), refused=AuthenticationFailed
        ):
            return super().post(request, *args, **kwargs)


def _ensure_current_session(token, *, lock: bool = False) -> None:
    """A token of a deleted or deactivated user, or one issued under a password the user no
    longer has, is refused (401), as every endpoint refuses it. `lock`: read the user's row
    FOR NO KEY UPDATE, so the caller's transaction queues behind a password change (and the
    change behind it) instead of interleaving with it."""
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    users = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id})
    user = (users.select_for_update(no_key=True) if lock else users).first()
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed(
            "No active account found for the given token.", code="no_active_account"
        )
    if not issued_under_current_password(token, user):
        raise AuthenticationFailed(PASSWORD_CHANGED, code="password_changed")


class RefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs):
        # One transaction under the user's row lock: the token is checked (signature, expiry,
        # blacklist, password) and rotated while no password change can commit, so a refresh
        # either mints its token before a change (which then blacklists it, and whose password
        # digest it does not carry) or is refused after it; two refreshes of one token queue,
        # and the second finds it blacklisted.
        with transaction.atomic():
            _ensure_current_session(RefreshToken(attrs["refresh"]), lock=True)
            return super().validate(attrs)


class RefreshTokenView(TokenRefreshView):
    """A new access token (and refresh token, rotated); 401 for a deleted or inactive user, or
    a token issued before the user's password changed."""

    serializer_class = RefreshSerializer


class VerifySerializer(TokenVerifySerializer):
    def validate(self, attrs):
        try:
            data = super().validate(attrs)
        except serializers.ValidationError as exc:  # e.g. "Token is blacklisted"
            raise InvalidToken(exc.detail) from exc
        _ensure_current_session(UntypedToken(attrs["token"]))
        return data


class VerifyTokenView(TokenVerifyView):
    """200 for a valid token of an active user, issued under their current password; 401 for
    any other, blacklisted ones included."""

    serializer_class = VerifySerializer


class LogoutView(APIView):
    """Delete the caller's DRF token and blacklist the refresh token, if one is given."""

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.log_out(user=request.user, refresh=serializer.validated_data.get("refresh"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    """The caller's own account."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        # As authentication loaded it: with organization and role (from the cache for JWTs).
        return self.request.user

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(_fresh(user)).data)


class MePasswordView(APIView):
    """Change the caller's password; every session of the old one ends (log in again)."""

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Email a reset token to the address's account, if there is one: 202 either way, with
    the same work before it; the email goes out after the answer."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=PasswordResetSerializer, responses={202: None})
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_password_reset(email=serializer.validated_data["email"])
        return ResponseThen(
            status=status.HTTP_202_ACCEPTED, then=tasks.deliver_password_resets_soon
        )


class PasswordResetConfirmView(APIView):
    """Set a new password with the emailed uid and token; every session ends."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.confirm_password_reset(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationView(OrganizationScopedMixin, generics.RetrieveUpdateAPIView):
    """The caller's organization and its settings: every role reads, admins change them (a
    change applies from the next request)."""

    queryset = Organization.objects.all()  # the model, for the role permission check
    serializer_class = OrganizationSettingsSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return Organization.objects.get(pk=self.organization_id)

    def scoped(self, queryset):
        return queryset.filter(pk=self.organization_id)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = services.update_organization(
            organization=serializer.instance, **serializer.validated_data
        )
        return Response(self.get_serializer(organization).data)


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="groups__name")

    class Meta:
        model = User
        fields = ["role", "is_active"]


class UserViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The organization's users, managed by its admins. A platform superuser attached to an
    organization is not one of its users here: an org admin can neither see nor change it."""

    queryset = selectors.users_with_roles().filter(is_superuser=False)
    serializer_class = UserAdminSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = UserFilter
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering_fields = ["username", "email", "date_joined", "last_login"]
    ordering = ["username"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.create_user(
            organization=request.user.organization, **serializer.validated_data
        )
        return Response(self.get_serializer(_fresh(user)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        user = self.get_object()
        serializer = self.get_serializer(user, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.update_user(user=user, **serializer.validated_data)
        return Response(self.get_serializer(_fresh(user)).data)

    def perform_destroy(self, instance):
        services.delete_user(user=instance)


class GroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The roles and the permissions each one holds."""

    queryset = Group.objects.filter(name__in=Role.values).prefetch_related(
        "permissions__content_type"
    )
    serializer_class = GroupSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    search_fields = ["name"]
    ordering_fields = ["name"]
    ordering = ["name"]


class PermissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every model permission a role can hold."""

    queryset = Permission.objects.select_related("content_type")
    serializer_class = PermissionSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_fields = {"content_type__app_label": ["exact"]}
    search_fields = ["codename", "name"]
    ordering_fields = ["codename", "name"]
    ordering = ["content_type__app_label", "codename"]
