"""The admin's pages as a browser posts them: URLs, a change form's data, its errors."""

from django import forms
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.urls import reverse


def url(model_or_obj, view="changelist", *args):
    return reverse(admin_urlname(model_or_obj._meta, view), args=args)


def change_url(obj):
    return url(obj, "change", obj.pk)


def posted(response, **changes) -> dict:
    """The change form of `response` as a browser posts it, with `changes` applied."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    data.update({key: str(value) for key, value in changes.items()})
    return data


def with_new_line(data: dict, prefix: str, **fields) -> dict:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{name}": str(value) for name, value in fields.items()})
    return data


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def inline_errors(response) -> list:
    return [inline.formset.errors for inline in response.context["inline_admin_formsets"]]
