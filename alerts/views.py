from rest_framework import permissions, viewsets

from alerts.models import AlertLog
from alerts.serializers import AlertLogSerializer
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin


class AlertLogViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The organization's sent alert emails, newest first."""

    queryset = AlertLog.objects.filter(sent_at__isnull=False).order_by("-created_at", "-id")
    serializer_class = AlertLogSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filter_backends = []
