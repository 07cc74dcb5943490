"""Who signs in to the Django admin, and how (the tenancy inside it is `core.admin`'s)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.forms import AdminPasswordChangeForm as DjangoPasswordChangeForm
from django.core.exceptions import ValidationError

from core.admin import OrganizationAdminSite
from core.errors import TooManyAttempts
from users.selectors import may_use_admin
from users.services import end_sessions
from users.throttling import clear_login_failures, client_address, start_login_attempt


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in: the same failed-login throttle as `/api/login/` (per username and
    client address), and the same answer for a wrong password as for an account the admin is
    not open to, so it tells nobody which accounts exist or have access."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        attempted = bool(username and self.cleaned_data.get("password"))
        address = client_address(self.request)
        if attempted:
            try:
                start_login_attempt(username=username, address=address)
            except TooManyAttempts as refusal:
                raise ValidationError(str(refusal.message), code="throttled") from refusal
        cleaned = super().clean()
        if attempted:
            clear_login_failures(username=username, address=address)
        return cleaned

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
