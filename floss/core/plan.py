"""Plan helpers shared by every family: the config schema (one file per family, joined by
$ref), its check with floss's one-line message, where a run's files go and how numbers
appear in file names."""

from __future__ import annotations

import math
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


SEED_LIMIT = 2**32  # seeds (and seed + network index) are stored as int64 in every file
SIZE_LIMITS = {"n_neurons": 8192, "n_rec": 8192, "n_networks": 4096}
WEIGHT_BYTES_LIMIT = 2**34  # 16 GiB of float32 recurrent weights, M N^2 per block


def check_values(config, key: str = "") -> None:
    """What no schema keyword says for every key at once: numbers are finite, seeds fit the
    files' int64 (0 .. 2^32 - 1), network sizes fit in memory. The first problem as a
    FlossError naming the key."""
    if isinstance(config, dict):
        for k, v in config.items():
            check_values(v, f"{key}.{k}" if key else str(k))
        _check_sizes(config, key)
    elif isinstance(config, list):
        for v in config:
            check_values(v, key)
    elif isinstance(config, float) and not math.isfinite(config):
        raise config_error(key, f"{config} is not allowed; allowed: a finite number")
    elif type(config) is int and key.rsplit(".", 1)[-1].endswith("seed"):
        if not 0 <= config < SEED_LIMIT:
            raise config_error(key, f"{config} is not allowed; allowed: 0 .. {SEED_LIMIT - 1}")


def _check_sizes(block: dict, key: str) -> None:
    for name, limit in SIZE_LIMITS.items():
        value = block.get(name)
        if type(value) is int and value > limit:
            raise config_error(f"{key}.{name}" if key else name, f"{value} exceeds {limit}")
    n, m = block.get("n_neurons"), block.get("n_networks")
    if type(n) is int and type(m) is int and 4 * m * n * n > WEIGHT_BYTES_LIMIT:
        raise config_error(
            f"{key}.n_neurons",
            f"{m} networks of {n} neurons need {4 * m * n * n / 2**30:.0f} GiB of weights; "
            f"allowed: at most {WEIGHT_BYTES_LIMIT / 2**30:.0f} GiB",
        )


def check_files(paths: dict, key: str) -> None:
    """Input files a config names must exist when the run is planned (relative paths: from
    the working directory), not only when the job that reads them starts."""
    for name, path in paths.items():
        if not Path(path).is_file():
            raise config_error(f"{key}.{name}", f"{path!r}: no such file")


def validate(config: dict, schema: dict) -> None:
    """The first schema error, named by its key path, as a FlossError."""
    registry = Registry(retrieve=_retrieve)
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise config_error(key, err.message)


SCALES = ("smoke", "quick", "verify", "paper")  # the schema's enum of the `scale` key
OUTPUT_TOPS = ("results", "logs", "benchmarks")


def results_dir(config: dict, top: str = "results") -> str:
    """The folder of a run's outputs, `results/<scale>` (`logs/<scale>`, `benchmarks/<scale>`
    with top): each scale has its own, so a smoke run never overwrites the quick figures.
    `scale` is an enum, so no config text reaches a path."""
    scale = config.get("scale")
    if scale not in SCALES:
        raise config_error("scale", f"{scale!r} is not allowed; allowed: {', '.join(SCALES)}")
    if top not in OUTPUT_TOPS:
        raise ValueError(f"output folder {top!r}; allowed: {OUTPUT_TOPS}")
    return f"{top}/{scale}"


def fmt(x: float) -> str:
    """A number as it appears in file names: 0, -0.5, -1."""
    return f"{float(x):g}"
