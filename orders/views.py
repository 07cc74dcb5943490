"""The API base of every order endpoint: POST creates (numbered), PATCH edits and moves the
status, DELETE removes while open; each subclass calls its own app's services."""

from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from orders import services
from orders.services import DocumentLine, OrderItem


class OrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    ordering = ["-created_at", "-id"]
    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"list"})
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_order(self, user, data: dict):
        """Create through the app's service (e.g. `create_sales_order`)."""
        raise NotImplementedError

    def update_order(self, order, user, data: dict):
        """Edit and move through the app's service (e.g. `update_sales_order`)."""
        raise NotImplementedError

    def check_changes(self, request, changes: dict) -> None:
        """Refuse (403) what the caller's role may not ask for in these changes."""

    def as_written(self, order):
        """The order just created, with what the list's queryset annotates, from what the
        service wrote (e.g. `sales_order_as_written`): no read back. None reads it back."""
        return None

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def _service_data(self, validated: dict) -> dict:
        """The validated body as the services take it: the lines as OrderItems."""
        data = dict(validated)
        if "items" in data:
            price = self.get_serializer_class().line_serializer.Meta.model.PRICE_FIELD
            data["items"] = [
                OrderItem(item["product"], item["quantity"], item.get(price))
                for item in data["items"]
            ]
        return data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        order = self.create_order(request.user, self._service_data(serializer.validated_data))
        written = self.as_written(order)
        if written is not None:
            return Response(self.get_serializer(written).data, status=status.HTTP_201_CREATED)
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        data = self._service_data(serializer.validated_data)
        return self._answer(self.update_order(order, request.user, data))

    def perform_destroy(self, instance):
        services.delete_open_order(instance)

    def documents(self, request, *, serializer_class, of, record, also: tuple[str, ...] = ()):
        """A document endpoint of an order (receipts, returns): GET lists `of(order)`; POST
        records one through the app's service, `record(order=, user=, lines=, location=, note=)`
        (and the body's fields named in `also`), and answers 201 with it as the list shows
        it."""
        order = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(serializer_class(of(order), many=True, context=context).data)
        serializer = serializer_class(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        document = record(
            order=order,
            user=request.user,
            lines=[
                DocumentLine(
                    item=line["item_id"],
                    quantity=line["quantity"],
                    lot_code=line.get("lot_code") or "",
                    expiration_date=line.get("expiration_date"),
                )
                for line in data["lines"]
            ],
            location=data.get("location"),
            note=data.get("note", ""),
            **{name: data[name] for name in also},
        )
        answer = serializer_class(of(order).get(pk=document.pk), context=context)
        return Response(answer.data, status=status.HTTP_201_CREATED)
