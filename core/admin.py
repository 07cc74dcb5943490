"""Tenancy in the Django admin: the admin's counterpart of `core.tenancy` for the API.

Two kinds of people sign in (who may is the site's `has_permission`, see `users.admin_site`):
the platform's superusers, who see every organization, and an organization's own staff, who
see and change only their organization's rows, as far as their role's model permissions go.

- `OrganizationAdminSite` registers every ModelAdmin: one that does not scope itself to the
  signed-in user's organization (`OrganizationScopeMixin`) is made superusers-only, so a
  newly registered model can never show one organization's rows to another.
- `OrganizationScopeMixin` (in every tenant ModelAdmin and inline) scopes, for anyone but a
  superuser, the queryset (so the changelist, search, filters' counts, actions, the change,
  delete and history pages and the autocomplete answers), every foreign-key and many-to-many
  choice (a relation to anything that belongs to no organization offers nothing), the related
  list filters' choices and the raw-id widgets' labels; the organization is neither shown nor
  chosen: a new object gets the user's.
- An organization-owned object never moves to another organization (its stock history, order
  lines and references would stay behind), and everything it references (category, supplier,
  parent, product, order, ...) belongs to its own organization, also for a superuser: every
  admin of an organization-owned model uses `OrganizationAdminMixin`, and its inlines
  `OrganizationInlineMixin`.
- A service's refusal (`core.errors`) while the admin saves, deletes or runs an action is an
  error message, never a 500 (`RefusalMessagesMixin`). Rows that have services of their own
  are saved and deleted by them (`SavedByServicesMixin`), never by the admin's plain `save()`.
- Cost figures are shown only to those who may see costs (`CostFiguresMixin`, the rule of
  `core.tenancy.sees_costs`, as in the API).
- Every page runs in the signed-in user's organization's time zone (dates and times shown,
  Django's date filters and hierarchies), and its "today" is the organization's
  (`admin_today`: for a superuser's lists of every organization, each row's own).
- The site's own pages (not a model's, e.g. the dashboard) are registered with
  `OrganizationAdminSite.register_page`: behind the same sign-in, linked at the top of the
  index. Such a page reads no queryset of a ModelAdmin, so it scopes what it reads itself: to
  the signed-in user's organization, or, for a superuser, to one they choose.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
    ForeignKeyRawIdWidget,
)
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import connection, models, transaction
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join, mark_safe

from core.dates import EachOrganizationsToday, local_today, time_zone_of
from core.errors import DomainError
from core.tenancy import ORGANIZATION_MODEL, sees_costs


def is_organization_owned(model) -> bool:
    """The model has an `organization` foreign key to the tenant: its rows belong to one
    organization (recognised by the tenant model's label, so core imports no app)."""
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return False
    return (
        isinstance(field, models.ForeignKey)
        and field.related_model._meta.label == ORGANIZATION_MODEL
    )


def organization_lookup(model) -> str | None:
    """How a row of `model` names its organization: `pk` for the tenant itself,
    `organization` for an organization-owned model, None for anything else."""
    if model._meta.label == ORGANIZATION_MODEL:
        return "pk"
    if is_organization_owned(model):
        return "organization"
    # A model of core's that names its organization by id (core knows no app's models).
    return getattr(model, "ORGANIZATION_LOOKUP", None)


def sees_every_organization(request) -> bool:
    """The platform's superusers see every organization; everyone else only their own."""
    return request.user.is_superuser


def admin_today(request):
    """ "Today" in the admin: the signed-in user's organization's local date; for a superuser,
    whose lists hold every organization, each row's organization's (an SQL expression)."""
    if sees_every_organization(request):
        return EachOrganizationsToday()
    return local_today(request.user.organization)


def organization_condition(model, organization_id) -> models.Q:
    """The rows of `model` that belong to the organization: none of a model that belongs to no
    organization (fail closed), none for a user without an organization."""
    lookup = organization_lookup(model)
    if lookup is None or organization_id is None:
        return models.Q(pk__in=[])
    return models.Q(**{lookup: organization_id})


def scope_to_user(queryset: models.QuerySet, request) -> models.QuerySet:
    """What of `queryset` the signed-in user may see: everything for a superuser, their own
    organization's rows for anyone else."""
    if sees_every_organization(request):
        return queryset
    return queryset.filter(organization_condition(queryset.model, request.user.organization_id))


def check_same_organization(form: forms.BaseForm, organization_id, *, owner: str) -> None:
    """Add a form error to every reference to another organization's object."""
    if organization_id is None:  # the organization itself is missing or invalid: said already
        return
    for name, value in list(form.cleaned_data.items()):
        values = value if isinstance(value, (models.QuerySet, list, tuple)) else [value]
        for item in values:
            if (
                isinstance(item, models.Model)
                and is_organization_owned(type(item))
                and item.organization_id != organization_id
            ):
                form.add_error(name, f"Must belong to the {owner}'s organization.")
                break


def refusal_messages(refusal: DomainError) -> list[str]:
    """A service's refusal as the lines an admin page shows."""
    message = refusal.message
    if isinstance(message, dict):
        lines = []
        for field, texts in message.items():
            texts = texts if isinstance(texts, (list, tuple)) else [texts]
            lines += [
                str(text) if field == "non_field_errors" else f"{field}: {text}" for text in texts
            ]
        return lines
    if isinstance(message, (list, tuple)):
        return [str(text) for text in message]
    return [str(message)]


def add_refusal_to_form(form: forms.BaseForm, refusal: DomainError) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it."""
    message = refusal.message
    if isinstance(message, dict):
        for field, texts in message.items():
            form.add_error(field if field in form.fields else None, texts)
        return
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal_messages(refusal))


class OrganizationAdminForm(forms.ModelForm):
    """Every reference must belong to the object's organization.

    `new_organization_id`, set by `OrganizationAdminMixin` for an organization's own staff,
    is the organization a new object gets (the form then has no `organization` field).
    """

    new_organization_id = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.new_organization_id is not None and self.instance._state.adding:
            self.instance.organization_id = self.new_organization_id

    def organization_id(self):
        """The organization of the object: chosen in the form on add, fixed on change."""
        if "organization" in self.fields:
            organization = self.cleaned_data.get("organization")
            return organization.pk if organization is not None else None
        return self.instance.organization_id

    def clean(self):
        cleaned = super().clean()
        owner = self._meta.model._meta.verbose_name
        check_same_organization(self, self.organization_id(), owner=owner)
        return cleaned

    def _get_validation_exclusions(self):
        # A read-only `organization` is left out of the form, and Django then skips every
        # constraint naming it ("SKU unique per organization", ...): the database would answer
        # with an IntegrityError (a 500). The instance keeps its organization, so check them.
        exclude = super()._get_validation_exclusions()
        if "organization" not in self.fields and self.instance.organization_id is not None:
            exclude.discard("organization")
        return exclude


class OrganizationInlineFormSet(BaseInlineFormSet):
    """Every line the admin writes references objects of its parent's organization."""

    def changed_forms(self):
        """The forms that will be written: changed or new, and not deleted."""
        return [
            form
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and form.has_changed()
            and not (self.can_delete and self._should_delete_form(form))
        ]

    def clean(self):
        super().clean()
        owner = self.instance._meta.verbose_name
        for form in self.changed_forms():
            check_same_organization(form, self.instance.organization_id, owner=owner)
            self.clean_line(form)

    def clean_line(self, form) -> None:
        """Further checks of one changed line (add errors to `form`)."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # A line's hidden id names one of this parent's lines (Django's accepts any row's).
        pk = form.fields.get(self.model._meta.pk.name)
        if isinstance(pk, forms.ModelChoiceField):
            pk.queryset = self.get_queryset()


def usable_keys(values, field) -> list:
    """The values that can name a row by `field`: another value typed into a form ("abc", a
    number beyond the column) names nothing, rather than failing the page with a 500."""
    bounds = connection.ops.integer_field_ranges.get(field.get_internal_type())
    keys = []
    for value in values:
        try:
            key = field.to_python(value)
        except ValidationError:
            continue
        if key is None or (bounds and not bounds[0] <= key <= bounds[1]):
            continue
        keys.append(key)
    return keys


class SafeAutocompleteMixin:
    """Django's autocomplete widgets look the submitted value up to show its label, and fail
    (a 500) on one that is no id at all: such a value shows no label (the field refuses it)."""

    def optgroups(self, name, value, attr=None):
        field = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)
        return super().optgroups(name, [str(key) for key in usable_keys(value, field)], attr)


class SafeAutocompleteSelect(SafeAutocompleteMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(SafeAutocompleteMixin, AutocompleteSelectMultiple):
    pass


class OrganizationRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that names only what its field may choose: another organization's id,
    typed in by hand, is shown without its name (and refused by the field)."""

    def __init__(self, rel, admin_site, *, queryset, attrs=None, using=None):
        super().__init__(rel, admin_site, attrs=attrs, using=using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        field = self.rel.get_related_field()
        keys = usable_keys([value], field)
        if not keys or not self.queryset.filter(**{field.name: keys[0]}).exists():
            return "", ""
        return super().label_and_url_for_value(keys[0])


class OrganizationRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A filter by a related object that offers only the signed-in user's organization's
    objects (a superuser's: every organization's)."""

    def field_choices(self, field, request, model_admin):
        if sees_every_organization(request):
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to=organization_condition(
                field.related_model, request.user.organization_id
            ),
        )


class OrganizationScopeMixin:
    """For a ModelAdmin (or inline) of tenant data: scoped to the signed-in user's organization
    unless they are a superuser (see the module's docstring). The organization is then not shown
    at all: not as a column, a filter or a form field."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if isinstance(self, InlineModelAdmin) and organization_lookup(self.model) is None:
            return queryset  # lines of a parent: reached only through the (scoped) parent
        return scope_to_user(queryset, request)

    def _scope_formfield(self, formfield, request):
        if formfield is None or sees_every_organization(request):
            return formfield
        if hasattr(formfield, "queryset"):
            formfield.queryset = scope_to_user(formfield.queryset, request)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        formfield = self._scope_formfield(
            super().formfield_for_foreignkey(db_field, request, **kwargs), request
        )
        if (
            formfield is not None
            and not sees_every_organization(request)
            and isinstance(formfield.widget, ForeignKeyRawIdWidget)
        ):
            formfield.widget = OrganizationRawIdWidget(
                db_field.remote_field,
                self.admin_site,
                queryset=formfield.queryset,
                attrs=formfield.widget.attrs,
                using=kwargs.get("using"),
            )
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return self._scope_formfield(
            super().formfield_for_manytomany(db_field, request, **kwargs), request
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if sees_every_organization(request):
            return fieldsets
        return [
            (name, {**options, "fields": _without_organization(options["fields"])})
            for name, options in fieldsets
        ]

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        if sees_every_organization(request):
            return fields
        return [field for field in fields if field != "organization"]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not sees_every_organization(request):
            filters = [item for item in filters if item != "organization"]
        return [self._organization_filter(item) for item in filters]

    def _organization_filter(self, item):
        """A related field's filter offers only the user's organization's objects."""
        if isinstance(item, str):
            field = get_fields_from_path(self.model, item)[-1]
            return (item, OrganizationRelatedFieldListFilter) if field.is_relation else item
        if isinstance(item, (list, tuple)) and item[1] is admin.RelatedFieldListFilter:
            return (item[0], OrganizationRelatedFieldListFilter)
        return item


def _without_organization(fields):
    kept = []
    for field in fields:
        if isinstance(field, (list, tuple)):  # fields shown on one line
            field = tuple(name for name in field if name != "organization")
            if field:
                kept.append(field)
        elif field != "organization":
            kept.append(field)
    return kept


class RefusalMessagesMixin:
    """A service's refusal (`core.errors`) while the admin saves, deletes or runs an action is
    an error message on the same page: the view's transaction rolls back, nothing changes,
    never a 500. Forms should say what they can before that, on their fields."""

    def _refused(self, request, refusal: DomainError):
        for line in refusal_messages(refusal):
            self.message_user(request, line, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as refusal:
            return self._refused(request, refusal)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except DomainError as refusal:
            return self._refused(request, refusal)

    def changelist_view(self, request, *args, **kwargs):
        try:
            return super().changelist_view(request, *args, **kwargs)
        except DomainError as refusal:
            return self._refused(request, refusal)


class OrganizationAdminMixin(RefusalMessagesMixin, OrganizationScopeMixin):
    """For the ModelAdmin of an organization-owned model.

    A superuser chooses the organization on add, and it is read-only afterwards; an
    organization's own staff never see it: a new object gets theirs. References are checked
    in the form's clean(). A form of the admin's own must subclass `OrganizationAdminForm`.
    """

    form = OrganizationAdminForm

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "organization" not in fields:
            fields.append("organization")
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not issubclass(form, OrganizationAdminForm):
            raise TypeError(f"{type(self).__name__}.form must subclass OrganizationAdminForm.")
        if not sees_every_organization(request):
            form = type(
                form.__name__, (form,), {"new_organization_id": request.user.organization_id}
            )
        return form


class SavedByServicesMixin:
    """An admin whose rows are created, edited and deleted by their app's services, as the API
    does it: the services' rules, their locks and the cached figures they move on
    (`core.cache.figures_changed`) hold for the admin too. The subclass names the services
    (`service_create(organization, **fields)`, `service_update(obj, **fields)`,
    `service_delete(obj)`, where the admin deletes) and the form fields they take
    (`service_fields`). A selection is deleted in one transaction, in id order: a refusal keeps
    every row of it."""

    service_fields: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in self.service_fields}
        if change:
            saved = self.service_update(obj, **fields)
        else:
            saved = self.service_create(obj.organization, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()  # as saved (the admin logs and links it)

    def delete_model(self, request, obj):
        self.service_delete(obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                self.service_delete(obj)


class OrganizationInlineMixin(OrganizationScopeMixin):
    """For the inlines of an organization-owned parent (order lines, variations)."""

    formset = OrganizationInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if not issubclass(formset, OrganizationInlineFormSet):
            raise TypeError(
                f"{type(self).__name__}.formset must subclass OrganizationInlineFormSet."
            )
        return formset


class CostFiguresMixin:
    """For a ModelAdmin (or inline) that shows cost figures (`cost_fields`: cost price, average
    and unit costs, costs of goods, margins): only users who may see costs
    (`core.tenancy.sees_costs`, as in the API) get them as columns, on the page or in the form;
    for anyone else they are left out, not blanked."""

    cost_fields: tuple[str, ...] = ()

    def _without_costs(self, request, names):
        if sees_costs(request.user):
            return names
        return [name for name in names if name not in self.cost_fields]

    def get_list_display(self, request):
        return self._without_costs(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._without_costs(request, super().get_readonly_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        return [
            (name, {**options, "fields": self._without_costs(request, options["fields"])})
            for name, options in super().get_fieldsets(request, obj)
        ]


class ReadOnlyAdminMixin:
    """For what only services write (the ledger, alert history): no add, change or delete in
    the admin, nor bulk delete."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlatformAdminMixin:
    """For an admin of the platform's own data (tokens, the role groups' definitions): the
    platform's superusers only, whatever permissions anyone else holds."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if sees_every_organization(request) else queryset.none()

    def has_module_permission(self, request):
        return sees_every_organization(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return sees_every_organization(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return sees_every_organization(request) and super().has_add_permission(
            request, *args, **kwargs
        )

    def has_change_permission(self, request, obj=None):
        return sees_every_organization(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return sees_every_organization(request) and super().has_delete_permission(request, obj)


@dataclass(frozen=True)
class AdminPage:
    """A page of the admin site's own (not a model's): `/admin/<route>`, named `admin:<name>`."""

    route: str
    name: str
    title: str
    description: str
    view: Callable


class OrganizationAdminSite(admin.AdminSite):
    """The admin site of the platform and of every organization's own staff.

    A ModelAdmin registered without `OrganizationScopeMixin` (ours, or a library's: tokens,
    groups) is made superusers-only (`PlatformAdminMixin`); one with it must be of a model that
    names its organization. Who may sign in is `has_permission` (a subclass's rule). The site's
    own pages (`register_page`) are linked at the top of the index.
    """

    index_template = "admin/stockroom/index.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[AdminPage] = []

    def register_page(
        self, *, route: str, name: str, title: str, view: Callable, description: str = ""
    ) -> None:
        """Add a page of the site's own, for whoever may use the admin (`has_permission`,
        checked on every request as for every admin page); the view gets only their requests
        and must scope what it reads to their organization."""
        if any(page.name == name for page in self._pages):
            raise ImproperlyConfigured(f"The admin already has a page named {name!r}.")
        self._pages.append(AdminPage(route, name, title, description, view))

    def pages(self) -> list[dict]:
        """The site's own pages, as the index links them."""
        return [
            {"title": page.title, "description": page.description,
             "url": reverse(f"{self.name}:{page.name}", current_app=self.name)}
            for page in self._pages
        ]  # fmt: skip

    def each_context(self, request):
        context = super().each_context(request)
        return {**context, "site_pages": self.pages() if context["has_permission"] else []}

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        models_ = (
            [model_or_iterable] if isinstance(model_or_iterable, models.base.ModelBase)
            else model_or_iterable
        )  # fmt: skip
        if issubclass(admin_class, OrganizationScopeMixin):
            for model in models_:
                if organization_lookup(model) is None:
                    raise ImproperlyConfigured(
                        f"{admin_class.__name__} scopes {model._meta.label} to an organization, "
                        "but it has no `organization` foreign key."
                    )
        elif not issubclass(admin_class, PlatformAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (PlatformAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(models_, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        """Every page in the signed-in user's organization's time zone (UTC without one),
        rendered before the zone is left."""

        def in_local_time(request, *args, **kwargs):
            organization = getattr(request.user, "organization", None)
            with timezone.override(time_zone_of(organization)):
                response = view(request, *args, **kwargs)
                if callable(getattr(response, "render", None)) and not response.is_rendered:
                    response.render()
            return response

        return super().admin_view(update_wrapper(in_local_time, view), cacheable)

    def get_urls(self):
        pages = [
            path(page.route, self.admin_view(page.view), name=page.name) for page in self._pages
        ]
        return pages + [
            path(
                "r/<path:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site),
                name="view_on_site",
            )
            if getattr(pattern, "name", None) == "view_on_site"
            else pattern
            for pattern in super().get_urls()
        ]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's "view on site" shortcut looks any object up by id (and tells whether it
        exists): the platform's superusers only."""
        from django.contrib.contenttypes.views import shortcut

        if not sees_every_organization(request):
            raise Http404
        return shortcut(request, content_type_id, object_id)


# --- The audit trail -----------------------------------------------------------------------------


def audit_entries_for(request, *, object_type: str, object_id) -> models.QuerySet:
    """An object's audit rows that the signed-in user may read, newest first."""
    from core.models import AuditEntry

    entries = AuditEntry.objects.filter(object_type=object_type, object_id=object_id)
    if not sees_every_organization(request):
        entries = entries.filter(organization_id=request.user.organization_id)
    return entries.order_by("-created_at", "-id")


def audit_table(entries, *, limit: int = 50) -> str:
    """The rows as a small HTML table (escaped): when, who, what, and each field's change."""
    rows = [
        format_html(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            entry.username or "system",
            entry.action,
            format_html_join(
                mark_safe("<br>"),
                "{}: {} → {}",
                ((field, old, new) for field, (old, new) in entry.changes.items()),
            ),
        )
        for entry in entries[:limit]
    ]
    if not rows:
        return "No changes recorded."
    return format_html(
        '<table class="audit-trail"><thead><tr><th>when</th><th>who</th><th>action</th>'
        "<th>changes</th></tr></thead><tbody>{}</tbody></table>",
        mark_safe("".join(rows)),
    )


class AuditTrailMixin:
    """For the ModelAdmin of an audited model: its page shows the object's audit rows
    (`audit_trail`, a read-only field; name it in the fieldsets)."""

    audit_object_type: str = ""

    @admin.display(description="audit trail")
    def audit_trail(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        from core.audit import current_request

        request = current_request()  # a display gets no request: the middleware keeps it
        if request is None:
            return "-"
        return audit_table(
            audit_entries_for(request, object_type=self.audit_object_type, object_id=obj.pk)
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "audit_trail"]


def audit_entry_admin():
    """The audit trail's ModelAdmin (registered by the site, `users.admin_site`: this module is
    imported before the site exists)."""
    from core.models import AuditEntry

    class AuditEntryAdmin(ReadOnlyAdminMixin, OrganizationScopeMixin, admin.ModelAdmin):
        """Who changed what: read-only and undeletable, for everyone (superusers included);
        an organization's staff read their own organization's rows."""

        list_display = [
            "created_at", "username", "action", "object_type", "object_id", "object_repr",
        ]  # fmt: skip
        list_filter = ["action", "object_type", "created_at"]
        search_fields = ["object_repr", "username", "object_type"]
        readonly_fields = [f.name for f in AuditEntry._meta.fields]
        show_full_result_count = False

    return AuditEntry, AuditEntryAdmin
