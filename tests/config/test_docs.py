"""The API reference in the repository (docs/api.md) stays true to the running API."""

import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "api.md"


def documented_paths() -> set[str]:
    """Every /api/ path written in backticks (`GET /api/products/{id}/`, `/api/x/?a=b`)."""
    spans = re.findall(r"`([^`\n]+)`", REFERENCE.read_text())
    return {path for span in spans for path in re.findall(r"(/api/[^\s?`]*/)", span)}


@pytest.mark.django_db
def test_every_path_of_the_schema_is_documented(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    missing = set(schema["paths"]) - documented_paths()

    assert not missing, f"not in docs/api.md: {sorted(missing)}"


def test_every_documented_path_exists():
    unknown = []
    for path in documented_paths():
        try:
            resolve(re.sub(r"\{\w+\}", "1", path))
        except Resolver404:
            unknown.append(path)
    assert not unknown, f"docs/api.md documents paths the API does not have: {sorted(unknown)}"


def test_every_endpoint_section_has_a_curl_example():
    sections = re.split(r"^### ", REFERENCE.read_text(), flags=re.M)[1:]
    endpoints = [s for s in sections if s.startswith("`")]
    assert len(endpoints) >= 40
    assert all("curl " in section for section in endpoints)


def test_the_readme_links_the_projects_own_reference():
    readme = (ROOT / "README.md").read_text()
    assert "docs/api.md" in readme
    assert "../shared" not in readme
