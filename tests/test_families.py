"""One contract, filled the same way by every family (floss/families.py): run over all four
families with the smoke and quick configs."""

import argparse
import inspect
import json
import re
from pathlib import Path

import pytest
import yaml

from floss import families
from floss.core.cli import execution_options

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {
    name: yaml.safe_load((ROOT / name).read_text()) for name in ("config.yaml", "config/smoke.yaml")
}
PLAN_FUNCTIONS = (
    "check",
    "figures",
    "figure_inputs",
    "figure_params",
    "figure_caption",
    "result_files",
)


@pytest.fixture(params=families.FAMILIES)
def family(request):
    return request.param


def test_every_part_exists(family):
    for name in families.PARTS:
        families.part(family, name)
    plan = families.part(family, "plan")
    for fn in PLAN_FUNCTIONS:
        assert callable(getattr(plan, fn)), f"{family}.plan.{fn}"
    assert isinstance(plan.FIGURES, dict) and plan.FIGURES
    assert all(isinstance(claim, str) and claim for claim in plan.FIGURES.values())
    assert list(inspect.signature(families.part(family, "bench").report).parameters) == [
        "repeats",
        "networks",
        "device",
    ]


def test_figure_tables_agree(family):
    """The plan's figures are exactly the figure module's table, each a (build, plot) pair."""
    plan, figures = families.part(family, "plan"), families.part(family, "figures")
    assert set(plan.FIGURES) == set(figures.FIGURES)
    for name, (build, plot) in figures.FIGURES.items():
        assert callable(build) and callable(plot), name
        assert families.family_of(name) == family


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_plan_answers_for_every_enabled_figure(family, config_name):
    config = CONFIGS[config_name]
    plan = families.part(family, "plan")
    plan.check(config)
    root = f"results/{config['scale']}/"  # every file of a run under its scale's folder
    assert plan.figures(config), f"{family}: no figure enabled in {config_name}"
    for figure in plan.figures(config):
        inputs = plan.figure_inputs(config, figure)
        assert inputs and all(isinstance(p, str) and p.startswith(root) for p in inputs.values())
        params = plan.figure_params(config, figure)
        assert isinstance(params, dict)
        json.dumps(params)  # reaches the figure stage as JSON
        caption = plan.figure_caption(config, figure)
        assert isinstance(caption, str) and len(caption) > 20, figure
    files = plan.result_files(config)
    assert files and all(p.startswith(root) and "/figures/" not in p for p in files)
    assert len(files) == len(set(files))


def test_disabled_family_plans_nothing(family):
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    plan = families.part(family, "plan")
    blocks = [k for k, v in config.items() if isinstance(v, dict) and "enabled" in v]
    for key in blocks:
        config[key]["enabled"] = False
    plan.check(config)
    assert plan.figures(config) == [] and plan.result_files(config) == []


def test_every_family_registers_its_stages(family):
    sub = argparse.ArgumentParser().add_subparsers()
    before = set(sub.choices)
    families.part(family, "cli").register(sub, execution_options())
    added = set(sub.choices) - before
    assert added, family
    for name in added:
        assert callable(sub.choices[name].get_default("command")), name
        assert "figure" not in name and "bench" not in name  # one figure and one bench command


def test_figure_names_are_unique_across_families():
    names = [f for plan in families.plans().values() for f in plan.FIGURES]
    assert len(names) == len(set(names))


def test_report_landing_page_names_every_figure():
    text = (ROOT / "workflow/report/workflow.rst").read_text()
    words = set(re.findall(r"[A-Z]\d[A-D]?\b", text))
    for plan in families.plans().values():
        for figure in plan.FIGURES:
            assert figure.split("_")[0] in words, figure
