"""OpenAPI post-processing, so client generators see the API as it behaves."""


def _named_properties(component):
    """(name, schema) of each property, and of the items of an array property."""
    for name, prop in (component.get("properties") or {}).items():
        yield name, prop
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            yield name, prop["items"]


def _walk_properties(component):
    for _, prop in _named_properties(component):
        yield prop


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


# Figures that can fall below zero: a margin (sold below cost), and revenue or margin net of
# customer returns (a period with more returned than sold).
SIGNED_AMOUNTS = frozenset({"gross_margin", "net_margin", "net_revenue"})


def non_negative_money(result, generator, request, public):
    """Money in this API is never negative (prices, costs, totals: API.md says >= 0), so
    decimal strings match `^\\d...`, not drf-spectacular's generic `^-?\\d...`; margins and
    figures net of returns (`SIGNED_AMOUNTS`) keep their sign."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for name, prop in _named_properties(component):
            if name in SIGNED_AMOUNTS:
                continue
            pattern = prop.get("pattern")
            if prop.get("format") == "decimal" and pattern and pattern.startswith("^-?"):
                prop["pattern"] = "^" + pattern[3:]
    return result


EXAMPLES = {"date": "2026-11-21", "date-time": "2026-11-21T09:30:00Z"}


def _decimal_example(prop: dict) -> str:
    """ "19.90" for money, "0.7833" for 4-place costs: what the pattern's places allow."""
    pattern = prop.get("pattern", "")
    places = 4 if "{0,4}" in pattern else 2
    return "0.7833" if places == 4 else "19.90"


def _example_for(prop: dict):
    if prop.get("format") == "decimal":
        return _decimal_example(prop)
    return EXAMPLES.get(prop.get("format"))


def valid_examples(result, generator, request, public):
    """Swagger UI makes up `"."` for a decimal pattern: give every money, cost, date and
    timestamp field and parameter a valid example."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in _walk_properties(component):
            if "example" not in prop and (example := _example_for(prop)) is not None:
                prop["example"] = example
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if "example" not in parameter and (example := _example_for(schema)) is not None:
                    parameter["example"] = example
    return result


ERROR_SCHEMAS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "description": 'Every error but a 400: `{"detail": "message"}`.',
    },
    "ValidationErrors": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": (
            'A 400: the messages per field, `{"field": ["message"]}`, or '
            '`{"non_field_errors": [...]}`; malformed JSON is `{"detail": "..."}`.'
        ),
        "example": {"quantity": ["SKU-5: 70 requested, 7 available."]},
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (nothing was changed).",
    "401": "No credentials, bad credentials, or an expired or revoked token.",
    "403": "The caller's role does not allow it.",
    "404": "Not found, or another organization's.",
    "409": "The object's state forbids it (e.g. an illegal status change).",
    "413": "The request body is over 2.5 MB (nothing was stored).",
    "429": "Throttled: too many requests or failed logins; see `Retry-After`.",
}
PUBLIC_WRITES = ("/api/register/", "/api/login/", "/api/token/", "/api/password-reset/")


def _error_codes(path: str, method: str, operation: dict) -> list[str]:
    authenticated = bool(operation.get("security")) and {} not in operation["security"]
    writes = method in ("post", "put", "patch")
    codes = ["429"]
    if writes or operation.get("parameters"):
        codes.append("400")
    if authenticated:
        codes += ["401", "403"]
    if "{id}" in path:
        codes.append("404")
    if method in ("put", "patch", "delete") or (method == "post" and "{id}" in path):
        codes.append("409")
    if writes:
        codes.append("413")
    if path.startswith(PUBLIC_WRITES) and method == "post":
        codes.append("401" if path.startswith(("/api/login/", "/api/token/")) else "400")
    return sorted(set(codes))


def document_error_responses(result, generator, request, public):
    """Every operation lists the errors it can answer, with their bodies (API.md's table)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        if path in ("/api/schema/", "/api/docs/", "/api/health/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                name = "ValidationErrors" if code == "400" else "ErrorDetail"
                responses.setdefault(
                    code,
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
