"""OpenAPI post-processing, so client generators see the API as it behaves."""


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
