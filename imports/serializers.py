from rest_framework import serializers
from rest_framework.fields import empty

from core.tenancy import OrganizationPrimaryKeyRelatedField
from imports.models import ImportJob
from imports.selectors import processed_rows
from stock.models import Location


class FormBooleanField(serializers.BooleanField):
    """A boolean of a multipart form whose absence means its default (DRF reads an absent
    checkbox as false)."""

    default_empty_html = empty


class ImportRequestSerializer(serializers.Serializer):
    """POST /api/imports/ (multipart): the file and what to do with it."""

    file = serializers.FileField(allow_empty_file=False)
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices, default=ImportJob.Kind.PRODUCTS)
    dry_run = FormBooleanField(default=True)
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.UPSERT)
    create_missing = FormBooleanField(default=False)
    location = OrganizationPrimaryKeyRelatedField(
        queryset=Location.objects.filter(is_archived=False), required=False, allow_null=True
    )


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    processed_rows = serializers.SerializerMethodField()
    errors = ProblemSerializer(many=True, read_only=True)
    warnings = ProblemSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "dry_run",
            "mode",
            "status",
            "total_rows",
            "processed_rows",
            "created",
            "updated",
            "unchanged",
            "errors",
            "warnings",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_processed_rows(self, job) -> int:
        return processed_rows(job)
