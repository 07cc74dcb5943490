"""The API base of every order endpoint: POST creates (numbered), PATCH edits and moves the
status, DELETE removes while open; each subclass calls its own app's services."""

from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin


class OrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_order(self, data: dict):
        raise NotImplementedError

    def update_order(self, order, changes: dict):
        raise NotImplementedError

    def delete_order(self, order) -> None:
        raise NotImplementedError

    def check_changes(self, request, changes: dict) -> None:
        """Refuse (403) what the caller's role may not ask for in these changes."""

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        return self._answer(self.create_order(serializer.validated_data), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.check_changes(request, serializer.validated_data)
        return self._answer(self.update_order(order, serializer.validated_data))

    def perform_destroy(self, instance):
        self.delete_order(instance)
