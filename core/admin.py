"""Tenancy in the Django admin: the admin's counterpart of `core.tenancy` for the API.

An organization-owned object never moves to another organization (its stock history, order
lines and references would stay behind), and everything it references (category, supplier,
parent, product, order, ...) belongs to its own organization. Every admin of an
organization-owned model uses `OrganizationAdminMixin`, and its inlines
`OrganizationInlineMixin`.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.forms.models import BaseInlineFormSet

from core.tenancy import ORGANIZATION_MODEL


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


class OrganizationAdminForm(forms.ModelForm):
    """Every reference must belong to the object's organization."""

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


class OrganizationAdminMixin:
    """For the ModelAdmin of an organization-owned model.

    The organization is chosen on add and read-only afterwards; references are checked in the
    form's clean(). A form of the admin's own must subclass `OrganizationAdminForm`.
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
        return form


class OrganizationInlineMixin:
    """For the inlines of an organization-owned parent (order lines, variations)."""

    formset = OrganizationInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if not issubclass(formset, OrganizationInlineFormSet):
            raise TypeError(
                f"{type(self).__name__}.formset must subclass OrganizationInlineFormSet."
            )
        return formset


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
