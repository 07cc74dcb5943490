"""What purchase orders and sales orders share: numbering, locking, status moves against the
model's TRANSITIONS table, lines, totals in SQL, the API viewset and the admin.

Each order app keeps its own rules in its services (which move touches stock, what can be
edited in which status); this module only holds the mechanics both apply the same way.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.errors import Conflict
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from stock.services import ensure_stock_keeping
from users.services import lock_organization

MONEY = DecimalField(max_digits=30, decimal_places=2)


# --- services ---------------------------------------------------------------------------------


def next_order_number(model: type[models.Model], *, organization_id: int) -> int:
    """The organization's next number for `model`: its row lock makes concurrent creators queue
    up, so numbers have neither gaps nor collisions (the unique constraint backs it up)."""
    lock_organization(organization_id)
    last = model.objects.filter(organization_id=organization_id).aggregate(m=Max("number"))
    return (last["m"] or 0) + 1


def lock_order(model: type[models.Model], pk: int):
    """SELECT ... FOR NO KEY UPDATE the order: its status moves happen one at a time."""
    return model.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)


def needs_move(order, status: str, *, unchanged: tuple[str, ...], noun: str) -> bool:
    """Whether `status` is a move to make: False when the order already has it and that is
    allowed to change nothing (`unchanged`); a move the TRANSITIONS table lacks is a 409."""
    if status == order.status and status in unchanged:
        return False
    if status not in type(order).TRANSITIONS[order.status]:
        raise Conflict(f"A {order.status} {noun} cannot become {status}.")
    return True


def delete_open_order(order, *, open_status: str, noun: str) -> None:
    """Only an open order (a draft, a pending order) can be deleted; locked first."""
    with transaction.atomic():
        order = lock_order(type(order), order.pk)
        if order.status != open_status:
            raise Conflict(f"A {order.status} {noun} cannot be deleted.")
        order.delete()


def write_lines(*, order, items: list[dict], price_field: str, default_price=None) -> None:
    """Store the order's lines (stock-keeping products only); a line without a price takes
    `default_price(product)` when given."""
    for item in items:
        ensure_stock_keeping(product=item["product"], field="items")
    line_model = order.items.model

    def price(item):
        given = item.get(price_field)
        return default_price(item["product"]) if given is None and default_price else given

    line_model.objects.bulk_create(
        line_model(
            order=order,
            product=item["product"],
            quantity=item["quantity"],
            **{price_field: price(item)},
        )
        for item in items
    )


def stock_lines(order) -> list:
    """The order's lines as the ledger takes them, in line order."""
    from stock.services import StockLine

    return [
        StockLine(product_id=product_id, quantity=quantity)
        for product_id, quantity in order.items.order_by("id").values_list("product_id", "quantity")
    ]


# --- selectors --------------------------------------------------------------------------------


def lines_with_totals(line_model: type[models.Model], *, price_field: str) -> QuerySet:
    """Order lines with `line_total` = quantity * price, in SQL."""
    return (
        line_model.objects.select_related("product")
        .annotate(line_total=ExpressionWrapper(F("quantity") * F(price_field), output_field=MONEY))
        .order_by("id")
    )


def orders_with_totals(model: type[models.Model], *, price_field: str, total: str) -> QuerySet:
    """Orders with their `total` (a per-order subquery, so counting a page stays cheap) and
    their lines with line totals, in a constant number of queries."""
    line_model = model._meta.get_field("items").related_model
    line_total = ExpressionWrapper(F("quantity") * F(price_field), output_field=MONEY)
    order_total = (
        line_model.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(line_total))
        .values("total")
    )
    return (
        model.objects.select_related("created_by")
        .annotate(
            **{
                total: Coalesce(
                    Subquery(order_total, output_field=MONEY),
                    Value(Decimal("0.00")),
                    output_field=MONEY,
                )
            }
        )
        .prefetch_related(
            Prefetch("items", queryset=lines_with_totals(line_model, price_field=price_field))
        )
    )


# --- API --------------------------------------------------------------------------------------


class OrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """An order endpoint: POST creates (numbered), PATCH edits and moves the status, DELETE
    removes while open; each through the app's services, named by the subclass."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The app's service functions, as staticmethods.
    create_order = update_order = delete_order = None

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def check_changes(self, request, changes: dict) -> None:
        """Refuse (403) what the caller's role may not ask for in these changes."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        order = self.create_order(
            organization=request.user.organization, user=request.user, **serializer.validated_data
        )
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        order = self.update_order(order=order, user=request.user, changes=serializer.validated_data)
        return self._answer(order)

    def perform_destroy(self, instance):
        self.delete_order(order=instance)


# --- admin ------------------------------------------------------------------------------------


def _in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block  # the admin's change and delete views


class OrderLineInlineMixin:
    """Lines editable only while the order is open (as in the API)."""

    extra = 0
    raw_id_fields = ["product"]

    def _editable(self, obj):
        return obj is not None and obj.status == self.open_status

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
    for order in queryset.filter(status=modeladmin.open_status).order_by("pk"):
        with transaction.atomic():
            try:
                modeladmin.delete_order(order=order)
            except Conflict:  # moved on meanwhile
                continue
            modeladmin.log_deletions(request, [order])
        deleted += 1
    kept = queryset.count()
    modeladmin.message_user(
        request, f"{deleted} open order(s) deleted, {kept} other(s) kept.", messages.SUCCESS
    )


class OrderAdminMixin:
    """Orders are numbered and created through the API; saved or deleted orders are locked
    first, as the API's status moves lock them; only open orders can be deleted."""

    actions = [delete_open_orders]
    open_status = None
    delete_order = None  # the app's service function, as a staticmethod

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete closed orders too
        return actions

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None and request.method == "POST" and _in_transaction():
            order = lock_order(self.model, order.pk)
        return order

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == self.open_status
        return editable and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        self.delete_order(order=obj)

    @admin.display(ordering="number")
    def reference(self, obj):
        return obj.reference
