from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, permissions, status, viewsets
from rest_framework.response import Response

from core.api import RequestTooLarge
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from imports import jobs, selectors
from imports.models import ImportJob
from imports.serializers import ImportJobSerializer, ImportRequestSerializer


class ImportJobViewSet(
    OrganizationScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Spreadsheet imports of the organization (admin and manager): POST a file, read the job."""

    queryset = selectors.import_jobs()
    serializer_class = ImportJobSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    filter_backends = []

    def get_serializer_class(self):
        if self.action == "create":
            return ImportRequestSerializer
        return ImportJobSerializer

    @extend_schema(
        request=ImportRequestSerializer,
        responses={201: ImportJobSerializer, 202: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        form = ImportRequestSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise RequestTooLarge(
                f"The file is larger than the {settings.IMPORT_MAX_BYTES} byte limit."
            )
        job = jobs.start_import(
            organization=request.user.organization,
            user=request.user,
            file_name=upload.name,
            data=upload.read(),
            dry_run=form.validated_data["dry_run"],
            mode=form.validated_data["mode"],
            create_missing=form.validated_data["create_missing"],
            location=form.validated_data.get("location"),
            kind=form.validated_data["kind"],
        )
        finished = job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        return Response(
            ImportJobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED,
        )
