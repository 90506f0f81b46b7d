"""The family contract. Each paper family is a package floss/<family>/ with the same parts:

    plan     config checks and the experiment plan as plain Python (no Snakemake):
             FIGURES (name -> one-line claim), check(config), figures(config),
             figure_inputs(config, figure) -> {label: path}, figure_params(config, figure)
             -> dict, figure_caption(config, figure) -> str, result_files(config) -> [path]
    stages   Dataset in, Dataset out: the computations the rules run
    cli      register(subparsers, execution_parent): the family's `python -m floss` stages
    figures  FIGURES: name -> (build(inputs, params) -> Dataset, plot(data, params) -> Figure)
    bench    report(repeats, networks, device) -> str: the family's timing table
    claims   CLAIMS: [floss.core.claims.Claim], each measured on one figure's data

Only this module, floss.cli and the Snakefile know the list; no family imports another and
floss.core / floss.rnn import none (docs/architecture.md)."""

from __future__ import annotations

import importlib
from types import ModuleType

from floss.core import plan as core_plan
from floss.core.errors import FlossError

FAMILIES = ("flossing", "surrogate", "hessian", "gait")
PARTS = ("plan", "stages", "cli", "figures", "bench", "claims")


def part(family: str, name: str) -> ModuleType:
    if family not in FAMILIES or name not in PARTS:
        raise FlossError(f"no part {family}.{name}; families {FAMILIES}, parts {PARTS}")
    return importlib.import_module(f"floss.{family}.{name}")


def plans() -> dict[str, ModuleType]:
    return {f: part(f, "plan") for f in FAMILIES}


def family_of(figure: str) -> str:
    """The family a figure name belongs to."""
    for family, plan in plans().items():
        if figure in plan.FIGURES:
            return family
    known = sorted(f for plan in plans().values() for f in plan.FIGURES)
    raise FlossError(f"unknown figure {figure!r}; allowed: {known}")


def validate(config: dict, schema: dict | None = None) -> None:
    """The config schema (workflow/schemas/), then every family's cross-field rules; the
    first failure as a one-line FlossError naming the key."""
    if schema is None:
        schema = core_plan.load_schema(core_plan.SCHEMA_DIR / "config.schema.yaml")
    core_plan.check_values(config)
    core_plan.validate(config, schema)
    for plan in plans().values():
        plan.check(config)


def figures(config: dict) -> list[str]:
    """The figures of every enabled experiment, family by family."""
    return [f for plan in plans().values() for f in plan.figures(config)]


def result_files(config: dict) -> list[str]:
    return [p for plan in plans().values() for p in plan.result_files(config)]
