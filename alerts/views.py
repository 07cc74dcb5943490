from rest_framework import viewsets

from alerts.models import AlertLog
from alerts.serializers import AlertLogSerializer
from users.permissions import RolePermission
from users.tenancy import OrganizationScopedMixin


class AlertLogViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The organization's sent alert emails, newest first."""

    queryset = AlertLog.objects.all()
    serializer_class = AlertLogSerializer
    permission_classes = [RolePermission]
    filter_backends = []
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return super().get_queryset().order_by("-created_at", "-id")
