"""Serializer pieces every app shares."""

from rest_framework import serializers

from core.models import AuditEntry


class CostFieldsMixin:
    """A serializer with cost figures (`cost_fields`): they answer null when the view says the
    caller may not see costs (`context["hide_costs"]`: the `sales` role, API.md)."""

    cost_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_costs"):
            for field in self.cost_fields:
                if field in data:
                    data[field] = None
        return data


class ValuesRepresentation:
    """A serializer's representation of `values()` rows: each field's own `to_representation`,
    applied to the column its source names, so the answer is exactly the serializer's (same
    fields, order, formats) without a model instance and the serializer's machinery per row
    (about 0.1 ms a row on the product list). For read-only lists of plain fields: relations by
    id, `a.b` sources (read as `a__b` columns); no nested serializers or method fields.
    """

    def __init__(self, serializer_class):
        self.cost_fields = set(getattr(serializer_class, "cost_fields", ()))
        self.fields = []  # (name, column, representation or None for an id)
        for field in serializer_class().fields.values():
            if field.write_only:
                continue
            if isinstance(field, serializers.BaseSerializer | serializers.SerializerMethodField):
                raise TypeError(f"{serializer_class.__name__}.{field.field_name} is not a column")
            column = field.source.replace(".", "__")
            if isinstance(field, serializers.PrimaryKeyRelatedField):
                self.fields.append((field.field_name, column, None))
            else:
                self.fields.append((field.field_name, column, field.to_representation))
        self.columns = list(dict.fromkeys(column for _, column, _ in self.fields))

    def __call__(self, rows, *, hide_costs: bool = False) -> list[dict]:
        hidden = self.cost_fields if hide_costs else ()
        return [self._represent(row, hidden) for row in rows]

    def without_costs(self, represented: list[dict]) -> list[dict]:
        """Represented rows (e.g. cached ones) with their cost figures null."""
        return [{**row, **dict.fromkeys(self.cost_fields, None)} for row in represented]

    def _represent(self, row: dict, hidden) -> dict:
        data = {}
        for name, column, represent in self.fields:
            value = row[column]
            if value is None or name in hidden:
                data[name] = None
            elif represent is None:
                data[name] = value
            else:
                data[name] = represent(value)
        return data


class AuditEntrySerializer(serializers.ModelSerializer):
    """A row of the audit trail (API.md, Audit trail): `user` is the username, null for the
    system (a task, a command)."""

    user = serializers.SerializerMethodField()
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2)
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "user",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields

    def get_user(self, entry) -> str | None:
        return entry.username or None
