from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, BaseUserCreationForm, UserChangeForm
from django.db import transaction

from core import audit
from core.admin import (
    AuditTrailMixin,
    OrganizationScopeMixin,
    RefusalMessagesMixin,
    add_refusal_to_form,
    audit_entry_admin,
    sees_every_organization,
)
from core.currencies import CURRENCY_CHOICES
from core.dates import known_time_zones
from core.errors import BrokenRule, Conflict
from users import services
from users.models import Organization, Role, User
from users.services import end_sessions


class PasswordChangeForm(AdminPasswordChangeForm):
    """A password set in the admin ends the user's sessions, as one set through the API."""

    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                audit.record(
                    organization_id=user.organization_id,
                    action=audit.Action.UPDATE,
                    obj=user,
                    changes={"password": [None, audit.PASSWORD_CHANGED]},
                )
                end_sessions(user=user)
        return user


class OrganizationForm(forms.ModelForm):
    """An organization's name and settings, each chosen from what it may be (API.md)."""

    time_zone = forms.ChoiceField(
        choices=lambda: [(name, name) for name in sorted(known_time_zones())],
        help_text="Its today, its date ranges and report periods, its digest hour.",
    )
    currency = forms.ChoiceField(
        choices=[(code, code) for code in CURRENCY_CHOICES],
        help_text="Every amount of the organization is in it (nothing is converted).",
    )
    digest_hour = forms.TypedChoiceField(
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="The local time the daily low-stock digest goes out.",
    )

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "currency", "digest_hour"]


@admin.register(Organization)
class OrganizationAdmin(RefusalMessagesMixin, OrganizationScopeMixin, admin.ModelAdmin):
    """Every organization for a superuser; an organization's own staff see theirs, and its
    admins change its name and settings there, through `users.services` as the API does."""

    form = OrganizationForm
    list_display = ["id", "name", "time_zone", "currency", "digest_hour", "created_at"]
    list_display_links = ["id", "name"]
    list_filter = ["created_at"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        services.update_organization(
            organization=obj,
            name=data["name"],
            time_zone=data["time_zone"],
            currency=data["currency"],
            digest_hour=data["digest_hour"],
        )
        obj.refresh_from_db()
        return None


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.filter(groups__name=self.value())
        return queryset


def _check_admin_access(form, role) -> None:
    try:
        services.check_admin_access(role=role, admin_access=form.cleaned_data.get("admin_access"))
    except BrokenRule as refusal:
        add_refusal_to_form(form, refusal)


class PlatformUserChangeForm(UserChangeForm):
    """A superuser's form: Django's, and admin access only for a user in the admin or manager
    role group."""

    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self):
        cleaned = super().clean()
        if "groups" in cleaned:
            names = {group.name for group in cleaned["groups"]}
            _check_admin_access(self, next((r for r in Role.values if r in names), None))
        return cleaned


class TeammateForm(UserChangeForm):
    """An org admin's form for a teammate: details, one role and admin access; no staff,
    superuser or permission flags, no organization. Saved through `users.services`."""

    role = forms.ChoiceField(choices=Role.choices)

    class Meta(UserChangeForm.Meta):
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active", "admin_access"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        if self.instance.pk is not None:
            self.fields["role"].initial = self.instance.role

    def clean(self):
        cleaned = super().clean()
        _check_admin_access(self, cleaned.get("role"))
        return cleaned


class NewTeammateForm(BaseUserCreationForm):
    """An org admin adds a teammate to their organization, with a role (through
    `users.services.create_user`, as `POST /api/users/`)."""

    role = forms.ChoiceField(choices=Role.choices)

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ["username", "email", "admin_access"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with that username already exists.")
        return username

    def clean(self):
        cleaned = super().clean()
        _check_admin_access(self, cleaned.get("role"))
        return cleaned


TEAMMATE_FIELDS = ("username", "first_name", "last_name", "email", "is_active")


@admin.register(User)
class UserAdmin(AuditTrailMixin, RefusalMessagesMixin, OrganizationScopeMixin, DjangoUserAdmin):
    """Superusers: every user, as Django's user admin (plus admin access). An org admin: their
    organization's users (never a superuser), with a role and admin access instead of Django's
    staff, superuser, group and permission flags, written by `users.services` (the last admin
    stays, only admins and managers have admin access)."""

    change_password_form = PasswordChangeForm
    form = PlatformUserChangeForm
    audit_object_type = "user"
    list_display = ["username", "email", "organization", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "admin_access", "groups", "organization"]
    list_select_related = ["organization"]
    search_fields = ["username", "email", "first_name", "last_name", "organization__name"]
    autocomplete_fields = ["organization"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Organization", {"fields": ["organization", "admin_access"]}),
        ("Audit trail", {"fields": ["audit_trail"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        ("Organization", {"fields": ["organization"]}),
    ]
    teammate_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "role", "admin_access"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
        ("Audit trail", {"fields": ["audit_trail"]}),
    ]
    new_teammate_fieldsets = [
        (None, {"fields": ["username", "email", "role", "admin_access"]}),
        ("Password", {"fields": ["password1", "password2"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("groups")
        if sees_every_organization(request):
            return queryset
        return queryset.filter(is_superuser=False)

    def get_list_display(self, request):
        if sees_every_organization(request):
            return super().get_list_display(request)
        return ["username", "email", "role", "admin_access", "is_active", "last_login"]

    def get_list_filter(self, request):
        if sees_every_organization(request):
            return super().get_list_filter(request)
        return ["is_active", "admin_access", RoleFilter]

    def get_fieldsets(self, request, obj=None):
        if sees_every_organization(request):
            return super().get_fieldsets(request, obj)
        return self.new_teammate_fieldsets if obj is None else self.teammate_fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.organization_id is not None:
            # A member stays in their organization: moving them could leave it without an
            # admin, and their stock movements and orders stay behind.
            fields.append("organization")
        if not sees_every_organization(request) and obj is not None:
            fields += ["last_login", "date_joined"]
        return fields

    def get_form(self, request, obj=None, **kwargs):
        if not sees_every_organization(request):
            kwargs["form"] = NewTeammateForm if obj is None else TeammateForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if sees_every_organization(request):
            # Django's own form (groups saved after): the trail gets the user's own fields.
            with transaction.atomic():
                before = services.user_state(obj.pk) if change else {}
                super().save_model(request, obj, form, change)
                services.record_user_saved(user=obj, before=before, created=not change)
            return None
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in TEAMMATE_FIELDS if name in form.changed_data}
            services.update_user(
                user=obj, role=data["role"], admin_access=data["admin_access"], **fields
            )
            return None
        created = services.create_user(
            organization=request.user.organization,
            username=data["username"],
            email=data["email"],
            password=data["password1"],
            role=data["role"],
            admin_access=data["admin_access"],
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj.refresh_from_db()
        return None

    def delete_model(self, request, obj):
        services.delete_user(user=obj)  # the organization's last admin stays (Conflict)

    def delete_queryset(self, request, queryset):
        for user in queryset.order_by("pk"):
            try:
                services.delete_user(user=user)
            except Conflict as refusal:
                self.message_user(request, str(refusal.message), messages.ERROR)

    @admin.display(description="role")
    def role(self, user):
        return user.role


# The audit trail (core's model): read-only and undeletable, each organization's own rows.
admin.site.register(*audit_entry_admin())
