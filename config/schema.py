"""OpenAPI post-processing, so client generators see the API as it behaves."""


def _walk_properties(component):
    for prop in (component.get("properties") or {}).values():
        yield prop
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            yield prop["items"]


def require_response_fields(result, generator, request, public):
    """Every field of a response body is always present (possibly null): mark it required.

    drf-spectacular marks only read-only and required-on-input fields as required, which makes
    generated clients treat always-present fields (e.g. a product's `sku`) as optional.
    Request components (`...Request`, `Patched...Request`) keep their input rules.
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") or component.get("type") != "object":
            continue
        properties = component.get("properties")
        if properties:
            component["required"] = sorted(properties)
    return result


def non_negative_money(result, generator, request, public):
    """Money in this API is never negative (prices, costs, totals: API.md says >= 0), so
    decimal strings match `^\\d...`, not drf-spectacular's generic `^-?\\d...`."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in _walk_properties(component):
            pattern = prop.get("pattern")
            if prop.get("format") == "decimal" and pattern and pattern.startswith("^-?"):
                prop["pattern"] = "^" + pattern[3:]
    return result
