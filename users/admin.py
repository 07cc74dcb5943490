from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from users.models import Organization, User
from users.services import end_sessions


class PasswordChangeForm(AdminPasswordChangeForm):
    """A password set in the admin ends the user's sessions, as one set through the API."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            end_sessions(user=user)
        return user


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["name"]
    date_hierarchy = "created_at"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    list_display = ["username", "email", "organization", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "groups", "organization"]
    list_select_related = ["organization"]
    search_fields = ["username", "email", "first_name", "last_name", "organization__name"]
    autocomplete_fields = ["organization"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Organization", {"fields": ["organization"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        ("Organization", {"fields": ["organization"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.organization_id is not None:
            # A member stays in their organization: moving them could leave it without an
            # admin, and their stock movements and orders stay behind.
            fields.append("organization")
        return fields
