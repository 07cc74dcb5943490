"""The admin base of every order: fields and lines edited as the status allows and saved
through the app's service (`update_*_order`: the rules of what each status lets change are
stated there, once), status moves and creation through the API (which keeps stock right),
deletion through the service."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db import transaction

from core.admin import OrganizationInlineFormSet
from core.currencies import with_currency
from core.errors import Conflict, DomainError
from orders import services
from orders.models import Order
from orders.selectors import order_total
from orders.services import OrderItem
from stock.services import ensure_stock_keeping


class OrderLineFormSet(OrganizationInlineFormSet):
    """Lines: a product of the order's organization that keeps stock (live, no variations), as
    the API requires."""

    def clean_line(self, form) -> None:
        product = form.cleaned_data.get("product")
        if product is None:
            return
        try:
            ensure_stock_keeping(product=product)
        except DomainError as error:
            form.add_error("product", str(error.message))


class OrderLineInlineMixin:
    """Lines editable only while the order's status lets them be (the service's rule)."""

    formset = OrderLineFormSet
    extra = 0
    raw_id_fields = ["product"]
    rules: services.Rules  # the app's (e.g. `sales.services.RULES`)

    def _editable(self, obj):
        return obj is not None and "items" in services.editable_fields(self.rules, obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.action(description="Delete selected open orders (others are kept)", permissions=["delete"])
def delete_open_orders(modeladmin, request, queryset):
    """Delete the selected orders that are still open, through the service; keep the rest."""
    deleted = 0
    for order in queryset.filter(status=modeladmin.model.OPEN_STATUS).order_by("pk"):
        with transaction.atomic():
            try:
                services.delete_open_order(order)
            except Conflict:  # moved on meanwhile
                continue
            modeladmin.log_deletions(request, [order])
        deleted += 1
    kept = queryset.count()
    modeladmin.message_user(
        request, f"{deleted} open order(s) deleted, {kept} other(s) kept.", messages.SUCCESS
    )


class OrderAdminMixin:
    """Orders are numbered and created through the API; an edit is saved through the app's
    service (`update_service`, e.g. `update_sales_order`), which locks the order and checks
    what its status lets change (the same rule, `orders.services.editable_fields`, shows the
    rest read-only); deleted orders are locked first too; only open orders can be deleted.
    Lists and pages show the order's total, summed by the database."""

    actions = [delete_open_orders]
    rules: services.Rules  # the app's (e.g. `sales.services.RULES`)
    update_service: Callable[..., Order]  # the app's `update_*_order`, as a staticmethod
    service_fields: tuple[str, ...] = ()  # the form's fields that it edits
    # What the API alone writes; the subclass adds its own timestamps.
    readonly_fields = [
        "organization", "number", "status", "total", "created_by", "created_at", "updated_at",
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_total=order_total(self.model))

    @admin.display(description="total", ordering="_total")
    def total(self, order):
        total = getattr(order, "_total", None)
        if total is None:  # e.g. an order read again under its lock
            total = (
                type(order)
                .objects.filter(pk=order.pk)
                .annotate(_total=order_total(type(order)))
                .values_list("_total", flat=True)
                .get()
            )
        return with_currency(total, order.organization.currency)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete closed orders too
        return actions

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        in_transaction = transaction.get_connection().in_atomic_block  # change and delete views
        if order is not None and request.method == "POST" and in_transaction:
            order = services.lock_order(order)
        return order

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            editable = services.editable_fields(self.rules, obj)
            fields += [name for name in self.service_fields if name not in editable]
        return fields

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` saves the fields and the lines together, through the
        service."""

    def save_related(self, request, form, formsets, change):
        items = None
        for formset in formsets:
            formset.save(commit=False)  # what changed, for the admin's history; not saved here
            if formset.model is form.instance.items.model and formset.has_changed():
                items = self._items(formset)
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in self.service_fields
        }
        if fields or items is not None:
            self.update_service(order=form.instance, user=request.user, items=items, **fields)

    @staticmethod
    def _items(formset) -> list[OrderItem]:
        """Every line the order keeps, as the formset leaves them (all of them: the service
        replaces the lines)."""
        price = formset.model.PRICE_FIELD
        return [
            OrderItem(form.cleaned_data["product"], form.cleaned_data["quantity"],
                      form.cleaned_data.get(price))
            for form in formset.forms
            if form.cleaned_data and not formset._should_delete_form(form)
        ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == obj.OPEN_STATUS
        return editable and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.delete_open_order(obj)

    @admin.display(ordering="number")
    def reference(self, obj):
        return obj.reference
