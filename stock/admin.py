from django.contrib import admin, messages
from django.db import transaction

from core.admin import OrganizationAdminForm, OrganizationAdminMixin, ReadOnlyAdminMixin
from core.errors import BrokenRule, Conflict
from stock import services
from stock.models import Location, Lot, MovementLot, StockLevel, StockMovement, Transfer


class MovementLotInline(ReadOnlyAdminMixin, admin.TabularInline):
    """How a movement's delta falls on lots."""

    model = MovementLot
    fields = ["lot", "lot_expiration_date", "delta"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="expires")
    def lot_expiration_date(self, line):
        return line.lot.expiration_date

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """The ledger is read-only in the admin too: no add, change or delete (nor bulk delete)."""

    list_display = [
        "id",
        "created_at",
        "organization",
        "product",
        "location",
        "movement_type",
        "quantity",
        "delta",
        "balance_after",
        "source",
        "reference",
        "performed_by",
    ]
    list_filter = ["movement_type", "source", "location", "created_at", "organization"]
    list_select_related = ["organization", "product", "location", "performed_by"]
    search_fields = ["product__sku", "product__name", "reference", "note", "location__name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [MovementLotInline]


class LocationAdminForm(OrganizationAdminForm):
    class Meta:
        model = Location
        fields = ["organization", "name", "code", "address", "is_default"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.is_default and cleaned.get("is_default") is False:
            self.add_error("is_default", "Make another location the default instead.")
        return cleaned

    def _get_validation_exclusions(self):
        # "One default per organization" is kept by the service, which hands the default
        # over: the form must not refuse a second one.
        return {*super()._get_validation_exclusions(), "is_default"}


@admin.register(Location)
class LocationAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    """Locations through stock's services, as in the API: one default per organization, and
    a location with stock or history is kept (archived) rather than deleted."""

    form = LocationAdminForm
    list_display = ["name", "code", "organization", "is_default", "is_archived", "updated_at"]
    list_filter = ["is_default", "is_archived", "organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "code", "address"]
    autocomplete_fields = ["organization"]
    fields = ["organization", "name", "code", "address", "is_default", "is_archived"]
    readonly_fields = ["is_archived", "created_at", "updated_at"]
    actions = ["archive_or_delete"]

    def has_delete_permission(self, request, obj=None):
        return False  # through the action: the service keeps what has history

    def has_archive_permission(self, request):
        return request.user.has_perm("stock.delete_location")

    def save_model(self, request, obj, form, change):
        names = ("name", "code", "address", "is_default")
        fields = {name: form.cleaned_data[name] for name in names}
        if change:
            saved = services.update_location(location=obj, **fields)
        else:
            saved = services.create_location(organization=obj.organization, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    @admin.action(
        description="Delete selected locations (archive those with history)",
        permissions=["archive"],
    )
    def archive_or_delete(self, request, queryset):
        done = 0
        for location in queryset.filter(is_archived=False).order_by("pk"):
            try:
                with transaction.atomic():
                    services.delete_location(location=location)
            except (Conflict, BrokenRule) as refusal:
                self.message_user(request, str(refusal.message), messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"{done} location(s) deleted or archived.", messages.SUCCESS)


@admin.register(Lot)
class LotAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    """Lots are made by the stock they receive; only a wrong expiry is corrected here."""

    list_display = ["code", "product", "organization", "expiration_date", "quantity"]
    list_filter = ["expiration_date", "organization"]
    list_select_related = ["organization", "product"]
    search_fields = ["code", "product__sku", "product__name"]
    fields = ["organization", "product", "code", "expiration_date", "quantity", "created_at"]
    readonly_fields = ["product", "code", "quantity", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "expiration_date" in form.changed_data:
            services.update_lot(lot=obj, expiration_date=form.cleaned_data["expiration_date"])


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """What is where: written only by the ledger."""

    list_display = ["product", "location", "lot", "quantity", "allocated", "organization"]
    list_filter = ["location", "organization"]
    list_select_related = ["organization", "product", "location", "lot"]
    search_fields = ["product__sku", "product__name", "location__name", "lot__code"]
    show_full_result_count = False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference", "product", "from_location", "to_location", "quantity", "performed_by",
        "created_at",
    ]  # fmt: skip
    list_filter = ["created_at", "organization"]
    list_select_related = ["product", "from_location", "to_location", "performed_by"]
    search_fields = ["product__sku", "product__name", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False
