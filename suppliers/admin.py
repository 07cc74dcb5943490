from django.contrib import admin

from core.admin import OrganizationAdminMixin, SavedByServicesMixin
from suppliers import services
from suppliers.models import Supplier


@admin.register(Supplier)
class SupplierAdmin(SavedByServicesMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Suppliers through their services, as in the API: names unique, a deleted supplier's
    products unlinked under their locks, one that orders refer to kept."""

    list_display = ["name", "organization", "contact_email", "phone_number", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "contact_email", "phone_number", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]
    service_fields = ("name", "contact_email", "phone_number", "address")

    def service_create(self, organization, **fields):
        return services.create_supplier(organization=organization, **fields)

    def service_update(self, supplier, **fields):
        return services.update_supplier(supplier=supplier, **fields)

    def service_delete(self, supplier):
        services.delete_supplier(supplier=supplier)
