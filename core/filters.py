"""List-parameter filters shared by every app: a malformed value is a 400, never a 500."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(filters.Filter):
    """An object id: a positive integer (anything else is a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
