from django import forms
from django.contrib import admin, messages

from core.admin import (
    OrganizationAdminForm,
    OrganizationAdminMixin,
    ReadOnlyAdminMixin,
    add_refusal_to_form,
)
from core.errors import DomainError
from webhooks import services
from webhooks.models import EVENT_TYPES, Delivery, Webhook


class WebhookForm(OrganizationAdminForm):
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        required=False,
        min_length=16,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the secret (a new webhook gets a random one, shown once).",
    )

    class Meta:
        model = Webhook
        fields = ["organization", "url", "events", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:  # the service's checks, said on the form (https, public address, known events)
            services.check_subscription(url=cleaned.get("url"), events=cleaned.get("events"))
        except DomainError as refusal:
            add_refusal_to_form(self, refusal)
        return cleaned


@admin.register(Webhook)
class WebhookAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    """An organization's admins subscribe, edit, ping and delete webhooks here through
    `webhooks.services`, as the API does; the secret is shown once, when it is made."""

    form = WebhookForm
    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["url", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["created_at"]
    actions = ["ping"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {"url": data["url"], "events": data["events"], "is_active": data["is_active"]}
        if change:
            saved = services.update_webhook(webhook=obj, **fields, secret=data["secret"] or "")
        else:
            saved, secret = services.create_webhook(
                organization=obj.organization, **fields, secret=data["secret"] or ""
            )
            messages.warning(
                request, f"The webhook's secret (shown this once, copy it now): {secret}"
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_webhook(webhook=obj)

    def delete_queryset(self, request, queryset):
        for webhook in queryset.order_by("pk"):
            services.delete_webhook(webhook=webhook)

    @admin.action(description="Send a ping to the selected webhooks", permissions=["change"])
    def ping(self, request, queryset):
        for webhook in queryset.order_by("pk"):
            services.ping(webhook=webhook)
        messages.success(request, f"{queryset.count()} ping(s) queued.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at", "webhook", "event", "status", "attempts", "response_status",
        "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "created_at", "organization"]
    search_fields = ["webhook__url", "event__type"]
    list_select_related = ["webhook", "event", "organization"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    show_full_result_count = False
    actions = ["redeliver"]

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description="Deliver the selected again", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        for delivery in queryset.order_by("pk"):
            services.redeliver(delivery=delivery)
        messages.success(request, f"{queryset.count()} deliveries queued again.")
