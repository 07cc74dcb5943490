from django import forms
from django.contrib import admin

from core.admin import OrganizationAdminMixin, OrganizationInlineMixin, SavedByServicesMixin
from suppliers import services
from suppliers.models import Supplier, SupplierProduct


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

    def get_inlines(self, request, obj):
        return [SupplierSupplierProductInline] if obj is not None else []

    def save_formset(self, request, form, formset, change):
        if formset.model is SupplierProduct:
            save_supplier_products(formset, organization=form.instance.organization)
        else:
            super().save_formset(request, form, formset, change)


class SupplierProductForm(forms.ModelForm):
    """ "One preferred per product" is the service's to keep (preferring one un-prefers the
    others), not the form's to refuse."""

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "is_preferred"}


class SupplierProductInline(OrganizationInlineMixin, admin.TabularInline):
    """What a supplier sells us of a product, on the product's page and on the supplier's;
    written through the suppliers' services (`save_supplier_products`)."""

    model = SupplierProduct
    form = SupplierProductForm
    fields = [
        "supplier",
        "product",
        "supplier_sku",
        "pack_size",
        "unit_cost",
        "lead_time_days",
        "minimum_order_quantity",
        "is_preferred",
    ]
    autocomplete_fields = ["supplier", "product"]
    extra = 0
    verbose_name = "supplier product"
    verbose_name_plural = "supplier products (what suppliers sell us of it)"

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != self.fk_name]


def save_supplier_products(formset, *, organization) -> None:
    """The inline's deletions, edits and additions, each through the suppliers' services (one
    preferred per product, one per product and supplier)."""
    formset.save(commit=False)
    for row in formset.deleted_objects:
        services.delete_supplier_product(supplier_product=row)
    for row, changed in formset.changed_objects:
        services.update_supplier_product(
            supplier_product=row, **{name: getattr(row, name) for name in changed}
        )
    for row in formset.new_objects:
        services.create_supplier_product(
            organization=organization,
            supplier=row.supplier,
            product=row.product,
            supplier_sku=row.supplier_sku,
            pack_size=row.pack_size,
            unit_cost=row.unit_cost,
            lead_time_days=row.lead_time_days,
            minimum_order_quantity=row.minimum_order_quantity,
            is_preferred=row.is_preferred,
        )


class ProductSupplierProductInline(SupplierProductInline):
    fk_name = "product"


class SupplierSupplierProductInline(SupplierProductInline):
    fk_name = "supplier"
