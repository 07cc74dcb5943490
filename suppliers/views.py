from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from suppliers import services
from suppliers.models import Supplier
from suppliers.serializers import SupplierSerializer


class SupplierViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Who the organization buys from."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_fields = []
    search_fields = ["name", "contact_email"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supplier = services.create_supplier(
            organization=request.user.organization, **serializer.validated_data
        )
        return Response(self.get_serializer(supplier).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        supplier = self.get_object()
        serializer = self.get_serializer(
            supplier, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.update_supplier(supplier=supplier, **serializer.validated_data)
        return Response(self.get_serializer(supplier).data)

    def perform_destroy(self, instance):
        services.delete_supplier(supplier=instance)
