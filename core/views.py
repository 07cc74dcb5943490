"""The audit trail's read-only endpoint (API.md, Audit trail); core's only view."""

from django_filters import rest_framework as filters
from rest_framework import permissions, viewsets

from core.dates import within_local_dates
from core.filters import IdFilter
from core.models import AuditEntry
from core.permissions import RolePermission
from core.serializers import AuditEntrySerializer
from core.tenancy import OrganizationScopedMixin


class AuditEntryFilter(filters.FilterSet):
    object_type = filters.CharFilter(field_name="object_type", max_length=50)
    object_id = IdFilter(field_name="object_id")
    user = filters.CharFilter(method="filter_user", max_length=150, help_text="A username or id.")
    action = filters.ChoiceFilter(choices=AuditEntry.Action.choices)
    date_from = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )
    date_to = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )

    class Meta:
        model = AuditEntry
        fields = ["object_type", "object_id", "user", "action", "date_from", "date_to"]

    def filter_user(self, queryset, name, value):
        value = value.strip()
        if value.isdigit() and len(value) < 19:
            return queryset.filter(user_id=int(value))
        return queryset.filter(username__iexact=value)

    def filter_dates(self, queryset, name, value):
        return within_local_dates(
            queryset,
            field="created_at",
            organization=self.request.user.organization,
            **{name: value},
        )


class AuditEntryViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Who changed what, newest first: admins and managers read it; nobody writes it."""

    queryset = AuditEntry.objects.order_by("-created_at", "-id")
    serializer_class = AuditEntrySerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = AuditEntryFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
