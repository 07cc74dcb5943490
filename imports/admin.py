from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import (
    OrganizationAdminMixin,
    ReadOnlyAdminMixin,
    add_refusal_to_form,
    refusal_messages,
    scope_to_user,
    sees_every_organization,
)
from core.errors import BrokenRule, DomainError
from imports import jobs
from imports.models import ImportJob
from stock.models import Location
from users.models import Organization


class ImportForm(forms.Form):
    """What the API's POST asks (the file, the mode, create_missing, the location); a
    superuser also names the organization."""

    file = forms.FileField(help_text="CSV (UTF-8, comma or semicolon) or .xlsx: the product "
                           "export's columns; sku and name are required.")  # fmt: skip
    mode = forms.ChoiceField(choices=ImportJob.Mode.choices, initial=ImportJob.Mode.UPSERT)
    create_missing = forms.BooleanField(
        required=False, help_text="Create the categories and suppliers the file names."
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        help_text="Where opening stock goes (empty: the default location).",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = scope_to_user(
            Location.objects.filter(is_archived=False), request
        )
        if sees_every_organization(request):
            self.fields["organization"] = forms.ModelChoiceField(
                queryset=Organization.objects.order_by("name")
            )
            self.order_fields(["organization"])

    def clean(self):
        cleaned = super().clean()
        location, organization = cleaned.get("location"), cleaned.get("organization")
        if location and organization and location.organization_id != organization.pk:
            self.add_error("location", "Must belong to the organization.")
        return cleaned


def problems_table(problems: list, *, css: str) -> str:
    """Errors or warnings by row, as a table."""
    if not problems:
        return ""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (item.get("row") or "", item.get("column") or "", item.get("message"))
            for item in problems
        ),
    )
    return format_html(
        '<table class="{}"><thead><tr><th>row</th><th>column</th><th>message</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        css,
        rows,
    )


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Imports are made on the "Import products" page (upload, dry run, then import), through
    the same service as the API; the jobs are read here, with their errors by row."""

    list_display = ["created_at", "file_name", "status", "dry_run", "mode", "total_rows",
                    "created", "updated", "unchanged", "created_by", "organization"]  # fmt: skip
    list_filter = ["status", "dry_run", "organization"]
    list_select_related = ["organization", "created_by"]
    search_fields = ["file_name", "created_by__username", "organization__name"]
    fields = ["file_name", "status", "dry_run", "mode", "create_missing", "location",
              "total_rows", "processed_rows", "created", "updated", "unchanged",
              "error_table", "warning_table", "created_by", "created_at", "finished_at",
              "organization"]  # fmt: skip
    readonly_fields = fields
    change_list_template = "admin/imports/importjob/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")

    @admin.display(description="errors")
    def error_table(self, job):
        return problems_table(job.errors, css="import-errors")

    @admin.display(description="warnings")
    def warning_table(self, job):
        return problems_table(job.warnings, css="import-warnings")

    def get_urls(self):
        own = [
            path(
                "upload/",
                self.admin_site.admin_view(self.import_view),
                name="imports_importjob_upload",
            )
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "import_url": self._import_url(request)}
        return super().changelist_view(request, extra_context)

    def _import_url(self, request) -> str | None:
        if request.user.has_perm("imports.add_importjob"):
            return reverse("admin:imports_importjob_upload")
        return None

    def import_view(self, request):
        """Upload, dry run (the errors by row), then import: `imports.services` as in the
        API; after a checked dry run, "Import" runs the same file for real."""
        if not request.user.has_perm("imports.add_importjob"):
            raise PermissionDenied
        job = None
        form = ImportForm(request.POST or None, request.FILES or None, request=request)
        if request.method == "POST" and "from_job" in request.POST:
            form = ImportForm(request=request)
            pk = request.POST["from_job"]
            checked = (
                scope_to_user(ImportJob.objects.all(), request).filter(pk=int(pk)).first()
                if pk.isdigit() and len(pk) < 19
                else None
            )
            try:
                if checked is None:
                    raise BrokenRule("That dry run is gone; upload the file again.")
                job = jobs.import_checked_file(job=checked, user=request.user)
            except DomainError as refusal:
                for line in refusal_messages(refusal):
                    self.message_user(request, line, messages.ERROR)
        elif request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            organization = data.get("organization") or request.user.organization
            upload = data["file"]
            try:
                job = jobs.start_import(
                    organization=organization,
                    user=request.user,
                    file_name=upload.name,
                    data=upload.read(),
                    dry_run="_import" not in request.POST,
                    mode=data["mode"],
                    create_missing=data["create_missing"],
                    location=data["location"],
                )
            except DomainError as refusal:
                add_refusal_to_form(form, refusal)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import products",
            "form": form,
            "job": job,
            "errors_table": problems_table(job.errors, css="import-errors") if job else "",
            "warnings_table": problems_table(job.warnings, css="import-warnings") if job else "",
            "job_url": reverse("admin:imports_importjob_change", args=[job.pk]) if job else "",
            "products_url": reverse("admin:inventory_product_changelist"),
            "opts": self.model._meta,
            "media": self.media + form.media,
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/imports/importjob/import.html", context)
