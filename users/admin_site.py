"""Who signs in to the Django admin, and how (the tenancy inside it is `core.admin`'s)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.forms import AdminPasswordChangeForm as DjangoPasswordChangeForm
from django.core.exceptions import ValidationError

from core.admin import OrganizationAdminSite
from core.errors import TooManyAttempts
from users.selectors import may_use_admin
from users.services import end_sessions
from users.throttling import client_address, login_attempt


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in: the same failed-login throttle as `/api/login/` (per username and
    client address), and the same answer for a wrong password as for an account the admin is
    not open to, so it tells nobody which accounts exist or have access."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if not (username and self.cleaned_data.get("password")):
            return super().clean()
        try:
            # A refusal (wrong password, or an account the admin is not open to) keeps its
            # count; a sign-in the database could not check (503) gives it back.
            with login_attempt(
                username=username, address=client_address(self.request), refused=ValidationError
            ):
                return super().clean()
        except TooManyAttempts as refusal:
            raise ValidationError(str(refusal.message), code="throttled") from refusal

    def confirm_login_allowed(self, user):
        if not may_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class OwnPasswordChangeForm(DjangoPasswordChangeForm):
    """A password changed in the admin ends the user's API sessions (DRF token, refresh
    tokens), as one changed through the API; the admin session itself goes on."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            end_sessions(user=user)
        return user


class StockroomAdminSite(OrganizationAdminSite):
    """`/admin/`: the platform's superusers, and each organization's admins and managers whom
    its admin let in (`users.selectors.may_use_admin`, checked on every request)."""

    site_header = "Stockroom administration"
    site_title = "Stockroom admin"
    login_form = AdminSignInForm

    def has_permission(self, request):
        return may_use_admin(request.user)

    def password_change(self, request, extra_context=None):
        from django.contrib.auth.views import PasswordChangeView
        from django.urls import reverse

        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=OwnPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
