"""The API base of every order endpoint: POST creates (numbered), PATCH edits and moves the
status, DELETE removes while open; each subclass calls its own app's services."""

from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from orders import services


class OrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_order(self, user, data: dict):
        """Create through the app's service (e.g. `create_sales_order`)."""
        raise NotImplementedError

    def update_order(self, order, user, changes: dict):
        """Edit and move through the app's service (e.g. `update_sales_order`)."""
        raise NotImplementedError

    def check_changes(self, request, changes: dict) -> None:
        """Refuse (403) what the caller's role may not ask for in these changes."""

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        order = self.create_order(request.user, serializer.validated_data)
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        return self._answer(self.update_order(order, request.user, serializer.validated_data))

    def perform_destroy(self, instance):
        services.delete_open_order(instance)
