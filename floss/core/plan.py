"""Plan helpers shared by every family: the config schema (one file per family, joined by
$ref), its check with floss's one-line message, and how numbers appear in file names."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from floss.core.errors import config_error

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"


def load_schema(path: str | Path) -> dict:
    """The schema, with its file URI as $id so that relative $refs name sibling files."""
    path = Path(path).resolve()
    return {**yaml.safe_load(path.read_text()), "$id": path.as_uri()}


def _retrieve(uri: str) -> Resource:
    """Sibling schema files ($ref: "surrogate.schema.yaml"); nothing is fetched remotely."""
    if not uri.startswith("file://"):
        raise ValueError(f"schema reference {uri!r}: only local files are allowed")
    path = Path(uri.removeprefix("file://"))
    if not path.is_file():  # Snakemake's source cache holds only the top schema file
        path = SCHEMA_DIR / path.name
    schema = yaml.safe_load(path.read_text())
    return Resource.from_contents(schema, default_specification=DRAFT202012)


def validate(config: dict, schema: dict) -> None:
    """The first schema error, named by its key path, as a FlossError."""
    registry = Registry(retrieve=_retrieve)
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise config_error(key, err.message)


def fmt(x: float) -> str:
    """A number as it appears in file names: 0, -0.5, -1."""
    return f"{float(x):g}"
