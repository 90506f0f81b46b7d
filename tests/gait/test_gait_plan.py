"""GAIT-prop plan: file names, labels, stage options and the cross-field config checks."""

import copy
from pathlib import Path

import pytest
import yaml

from floss.core.errors import FlossError
from floss.gait import data, learning_rules, plan

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
QUICK = yaml.safe_load((ROOT / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


def test_names_agree_with_the_modules():
    assert set(plan.RULES) == set(learning_rules.RULES)
    assert plan.WILDCARDS["gdata"].split("|") == list(data.DATASETS)


def test_runs_labels_and_results():
    runs = plan.runs(QUICK)
    assert len(runs) == 9 and runs["digits/tower/gait"] == "results/gait/digits/tower_gait.nc"
    assert list(runs)[:3] == ["digits/square/bp", "digits/square/gait", "digits/square/tp"]
    assert plan.figure_inputs(QUICK, "G1_gait_accuracy") == runs == plan.table_inputs(QUICK)
    files = plan.result_files(QUICK)
    assert files[-2:] == ["results/gait/accuracy_table.csv", "results/gait/accuracy_table.md"]
    assert len(plan.result_files(PAPER)) == 27 + 2
    assert plan.parse_runs({"mnist/linear/tp": 1}) == {("mnist", "linear", "tp"): 1}
    with pytest.raises(FlossError, match="DATASET/VARIANT/RULE"):
        plan.parse_runs({"mnist/linear": 1})


def test_train_options():
    opts = plan.train_options(SMOKE, "digits", "square", "tp")
    assert opts["lr"] == 1e-4 and opts["reg"] == 1000.0 and opts["gamma"] == 1e-3
    assert opts["test_fraction"] == 0.2 and "widths" not in opts
    opts = plan.train_options(PAPER, "kmnist", "tower", "gait")
    assert opts["widths"] == [784, 784, 500, 200, 10]
    assert opts["train_images"] == "data/kmnist/kmnist-train-imgs.npz"


def test_figure_params_and_captions():
    g1, g2 = (plan.figure_params(QUICK, f) for f in plan.FIGURES)
    assert g1 == {"caption": g2["caption"]} and g2["variant"] == "square"
    c1, c2 = (plan.figure_caption(QUICK, f) for f in plan.FIGURES)
    assert c1.startswith("G1. ") and c2.startswith("G2. ") and g1["caption"] in c1
    assert plan.table_params(QUICK) == g1
    with pytest.raises(FlossError, match="allowed"):
        plan.figure_params(QUICK, "G3")


@pytest.mark.parametrize(
    "change, key",
    [
        (
            {"rules": {**SMOKE["gait"]["rules"], "bp": {"lr": 1e-3, "reg": 0, "gamma": 1e-2}}},
            "rules.bp.gamma",
        ),
        ({"variants": ["tower"], "tower_widths": [64, 40, 50, 10]}, "tower_widths"),
        ({"variants": ["tower"], "tower_widths": [784, 200, 10]}, "tower_widths"),
        ({"batch": 1500}, "batch"),
    ],
)
def test_check_refuses(change, key):
    cfg = copy.deepcopy(SMOKE)
    cfg["gait"].update(change)
    with pytest.raises(FlossError, match=f"config key gait.{key}"):
        plan.check(cfg)
    cfg["gait"]["enabled"] = False
    plan.check(cfg)
    assert plan.figures(cfg) == [] and plan.result_files(cfg) == []


def test_shipped_configs_pass():
    for cfg in (SMOKE, QUICK, PAPER):
        plan.check(cfg)
    plan.check({})
