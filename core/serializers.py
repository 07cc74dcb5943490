"""Serializer pieces every app shares."""


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
