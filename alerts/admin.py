from django.contrib import admin

from alerts.models import AlertLog, StockAlert


@admin.register(AlertLog)
class AlertLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "kind", "low_stock_count", "expired_count"]
    list_filter = ["kind", "created_at"]
    search_fields = ["organization__name", "subject", "recipients"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in AlertLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StockAlert)
class StockAlertAdmin(admin.ModelAdmin):
    list_display = ["product", "organization", "quantity", "opened_at", "notified_at", "closed_at"]
    list_filter = ["opened_at", "closed_at"]
    search_fields = ["product__sku", "product__name", "organization__name"]
    list_select_related = ["product", "organization"]
    raw_id_fields = ["product"]
    readonly_fields = [f.name for f in StockAlert._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
