"""Partial edits: which fields a caller asked to change (a PATCH leaves the others alone).

A service that edits takes each field as a keyword argument defaulting to `UNSET`, or a
dataclass of them (`inventory.services.ProductChanges`); `given()` keeps the ones asked for.
`None` is a value a field may be set to (no category, no expiry), so it cannot mean "unchanged".
"""

import dataclasses


class _Unset:
    def __repr__(self):
        return "UNSET"

    def __bool__(self):
        return False


UNSET = _Unset()


def given(values) -> dict:
    """The fields asked for: of a dict, or of a dataclass instance, those that are not UNSET."""
    if dataclasses.is_dataclass(values):
        values = {field.name: getattr(values, field.name) for field in dataclasses.fields(values)}
    return {name: value for name, value in values.items() if value is not UNSET}
