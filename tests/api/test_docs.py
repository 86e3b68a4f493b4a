"""docs/api.md and the OpenAPI schema name the same operations, so the two cannot drift apart."""

import re
from pathlib import Path

from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

API_DOC = Path(settings.BASE_DIR) / "docs" / "api.md"
# An endpoint's section: "### `GET, POST /api/clients/get/{id}/`".
ENDPOINT_HEADING = re.compile(r"^#+ `([A-Z]+(?:, [A-Z]+)*) (/api/\S*)`$", re.MULTILINE)


def _documented_operations() -> list[tuple[str, str]]:
    return [
        (method.lower(), path)
        for methods, path in ENDPOINT_HEADING.findall(API_DOC.read_text(encoding="utf-8"))
        for method in methods.split(", ")
    ]


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method, path) for path, item in schema["paths"].items() for method in item}


def test_docs_describe_every_operation_of_the_schema_and_no_other():
    documented = _documented_operations()

    assert len(documented) == len(set(documented)), "an operation has two sections"
    assert set(documented) == _schema_operations()


def test_docs_no_longer_point_to_a_document_outside_the_repository():
    assert "CONTRACT.md" not in settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
    assert "docs/api.md" in settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
