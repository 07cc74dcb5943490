from django.contrib import admin

from core.admin import OrganizationAdminMixin
from suppliers.models import Supplier


@admin.register(Supplier)
class SupplierAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "contact_email", "phone_number", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "contact_email", "phone_number", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]
