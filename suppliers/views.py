from django_filters import rest_framework as filters
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from core.filters import IdFilter
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from suppliers import services
from suppliers.models import Supplier, SupplierProduct
from suppliers.serializers import SupplierProductSerializer, SupplierSerializer


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


class SupplierProductFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    supplier = IdFilter(field_name="supplier_id")

    class Meta:
        model = SupplierProduct
        fields = ["product", "supplier"]


class SupplierProductViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """What each supplier sells us of a product: pack size, unit cost, lead time, minimum
    order quantity, and which one is preferred."""

    queryset = SupplierProduct.objects.select_related("product", "supplier")
    serializer_class = SupplierProductSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = SupplierProductFilter
    search_fields = ["supplier_sku", "product__sku", "product__name", "supplier__name"]
    ordering_fields = ["created_at", "unit_cost", "lead_time_days"]
    ordering = ["id"]

    def _fresh(self, row):
        return self.get_queryset().get(pk=row.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.create_supplier_product(
            organization=request.user.organization, **serializer.validated_data
        )
        return Response(self.get_serializer(self._fresh(row)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        row = self.get_object()
        serializer = self.get_serializer(
            row, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.update_supplier_product(supplier_product=row, **serializer.validated_data)
        return Response(self.get_serializer(self._fresh(row)).data)

    def perform_destroy(self, instance):
        services.delete_supplier_product(supplier_product=instance)
