"""The bad-config corpus: every case is refused by floss.families.validate (what the Snakefile
runs before any job) with one line that names the key. tests/workflow/test_pipeline.py
shows the same refusal through `snakemake` itself, before any job."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from floss import families
from floss.core.errors import FlossError

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
DELETE = object()

# id: ({dotted key: new value (DELETE removes it)}, text the message must name)
CASES = {
    # top level
    "scale unknown": ({"scale": "huge"}, "scale"),
    "device unknown": ({"device": "tpu"}, "device"),
    "dtype float16": ({"dtype": "float16"}, "dtype"),
    "threads 0": ({"threads": 0}, "threads"),
    "threads missing": ({"threads": DELETE}, "threads"),
    "qr unknown": ({"qr": "gram"}, "qr"),
    "checkpoint_every negative": ({"checkpoint_every": -1}, "checkpoint_every"),
    "unknown top-level key": ({"bogus": 1}, "bogus"),
    "training block missing": ({"training": DELETE}, "training"),
    "fail_rule not a string": ({"fail_rule": 3}, "fail_rule"),
    # lambda_control (F1)
    "F1 n_neurons 0": ({"lambda_control.n_neurons": 0}, "lambda_control.n_neurons"),
    "F1 n_neurons huge": ({"lambda_control.n_neurons": 10**9}, "lambda_control.n_neurons"),
    "F1 n_networks huge": ({"lambda_control.n_networks": 10**7}, "lambda_control.n_networks"),
    "F1 gain_range one value": ({"lambda_control.gain_range": [1.0]}, "gain_range"),
    "F1 gain_range reversed": ({"lambda_control.gain_range": [1.0, 0.5]}, "gain_range"),
    "F1 targets duplicated": ({"lambda_control.targets": [-0.5, -0.5]}, "targets"),
    "F1 target above 2": ({"lambda_control.targets": [5.0]}, "targets"),
    "F1 lr nan": ({"lambda_control.flossing.lr": math.nan}, "lambda_control.flossing.lr"),
    "F1 lr inf": ({"lambda_control.flossing.lr": math.inf}, "lambda_control.flossing.lr"),
    "F1 lr 0": ({"lambda_control.flossing.lr": 0.0}, "lambda_control.flossing.lr"),
    "F1 tolerance nan": ({"lambda_control.tolerance": math.nan}, "lambda_control.tolerance"),
    "F1 seed 2^70": ({"lambda_control.seed": 2**70}, "lambda_control.seed"),
    "F1 seed negative": ({"lambda_control.seed": -1}, "lambda_control.seed"),
    "F1 k beyond N": ({"lambda_control.k": 99}, "lambda_control.k"),
    "F1 transient >= steps": ({"lambda_control.check.transient": 100}, "lambda_control.check"),
    # spectrum_k (F2), jacobian (F4)
    "F2 ks duplicated": ({"spectrum_k.ks": [1, 1]}, "spectrum_k.ks"),
    "F2 k beyond N": ({"spectrum_k.ks": [99]}, "spectrum_k.ks"),
    "F2 negative gain": ({"spectrum_k.gain": -1.0}, "spectrum_k.gain"),
    "F2 gain text": ({"spectrum_k.gain": "one"}, "spectrum_k.gain"),
    "F4 times duplicated": ({"jacobian.times": [1, 1]}, "jacobian.times"),
    "F4 time 0": ({"jacobian.times": [0, 5]}, "jacobian.times"),
    "F4 k beyond N": ({"jacobian.k": 99}, "jacobian.k"),
    # training (F3, F5, F6)
    "training schedule unknown": ({"training.schedules": ["sometimes"]}, "training.schedules"),
    "training schedules duplicated": ({"training.schedules": ["none", "none"]}, "schedules"),
    "training no delays": ({"training.tasks.copy": []}, "training.tasks.copy"),
    "training no task": ({"training.tasks": {}}, "training.tasks"),
    "training delays duplicated": ({"training.tasks.copy": [2, 2]}, "training.tasks.copy"),
    "training unknown task": ({"training.tasks.sort": [2]}, "training.tasks"),
    "training T too short": ({"training.steps": 3}, "training"),
    "training epochs 0": ({"training.epochs": 0}, "training.epochs"),
    "training lr negative": ({"training.lr": -1.0}, "training.lr"),
    "training lr nan": ({"training.lr": math.nan}, "training.lr"),
    "training clip negative": ({"training.clip": -0.1}, "training.clip"),
    "training clip inf": ({"training.clip": math.inf}, "training.clip"),
    "training batch 0": ({"training.batch": 0}, "training.batch"),
    "training threshold above 1": ({"training.success_threshold": 1.5}, "success_threshold"),
    "training curve delay not trained": ({"training.curve_delays.copy": 7}, "curve_delays"),
    "training during every 0": ({"training.during.every": 0}, "training.during.every"),
    "training k beyond N": ({"training.k": 99}, "training.k"),
    "training eval_samples 0": ({"training.eval_samples": 0}, "training.eval_samples"),
    # architectures (F7), scaling (F8)
    "F7 model unknown": ({"architectures.models": ["rnn"]}, "architectures.models"),
    "F7 models duplicated": ({"architectures.models": ["gru", "gru"]}, "architectures.models"),
    "F7 orders duplicated": ({"architectures.orders": [1, 1]}, "architectures.orders"),
    "F7 task unknown": ({"architectures.task": "sort"}, "architectures.task"),
    "F8 k rule N/0": ({"scaling.k_rules": ["N/0"]}, "scaling.k_rules"),
    "F8 k rule beyond N": ({"scaling.k_rules": ["100"]}, "scaling.k_rules"),
    "F8 k rule text": ({"scaling.k_rules": ["half"]}, "scaling.k_rules"),
    "F8 neurons duplicated": ({"scaling.neurons": [4, 4]}, "scaling.neurons"),
    "F8 steps beyond epoch": ({"scaling.steps": 500}, "scaling.steps"),
    # surrogate (S1-S3)
    "surrogate reading unknown": ({"surrogate.reading": "x"}, "surrogate.reading"),
    "surrogate reduced unknown group": ({"surrogate.reduced": {"S4": "x"}}, "surrogate.reduced"),
    "surrogate reduced not text": ({"surrogate.reduced": {"S2": 3}}, "surrogate.reduced"),
    "S1 sharpness negative": ({"surrogate.binary.sharpness": [-1.0]}, "sharpness"),
    "S1 sharpness duplicated": ({"surrogate.binary.sharpness": [1.0, 1.0]}, "sharpness"),
    "S1 ks duplicated": ({"surrogate.binary.ks": [1, 1]}, "surrogate.binary.ks"),
    "S1 lr nan": ({"surrogate.binary.flossing.lr": math.nan}, "surrogate.binary.flossing.lr"),
    "S2 delays duplicated": ({"surrogate.xor.delays": [4, 4]}, "surrogate.xor.delays"),
    "S2 delay odd": ({"surrogate.xor.delays": [3]}, "surrogate.xor.delays"),
    "S2 mode unknown": ({"surrogate.xor.modes": ["always"]}, "surrogate.xor.modes"),
    "S2 seed 2^70": ({"surrogate.xor.seed": 2**70}, "surrogate.xor.seed"),
    "S3 dt 0": ({"surrogate.spiking.dt": 0.0}, "surrogate.spiking.dt"),
    "S3 rate above 1": ({"surrogate.spiking.rate": 2.0}, "surrogate.spiking.rate"),
    "S3 tau inf": ({"surrogate.spiking.tau_mem": math.inf}, "surrogate.spiking.tau_mem"),
    # hessian (H1-H4)
    "H rule unknown": ({"hessian.rules": ["hebb"]}, "hessian.rules"),
    "H rules duplicated": ({"hessian.rules": ["bptt", "bptt"]}, "hessian.rules"),
    "H data unknown": ({"hessian.data.name": "cifar"}, "hessian.data.name"),
    "H mnist files missing": (
        {
            "hessian.data.name": "mnist",
            "hessian.data.mnist": {
                k: "/no/such/file"
                for k in ("train_images", "train_labels", "test_images", "test_labels")
            },
        },
        "hessian.data.mnist",
    ),
    "H mnist without files": ({"hessian.data.name": "mnist"}, "hessian.data"),
    "H lr nan": ({"hessian.lr": math.nan}, "hessian.lr"),
    "H n_rec huge": ({"hessian.n_rec": 10**6}, "hessian.n_rec"),
    "H seed 2^70": ({"hessian.seed": 2**70}, "hessian.seed"),
    "H4 delay not trained": ({"hessian.flossing.delays": [3]}, "hessian.flossing.delays"),
    # gait (G1, G2)
    "G datasets duplicated": ({"gait.datasets": ["digits", "digits"]}, "gait.datasets"),
    "G dataset unknown": ({"gait.datasets": ["cifar"]}, "gait.datasets"),
    "G files missing": ({"gait.datasets": ["mnist"]}, "gait"),
    "G file paths absent": (
        {
            "gait.datasets": ["mnist"],
            "gait.data": {
                "mnist": {
                    k: "/no/such/file"
                    for k in ("train_images", "train_labels", "test_images", "test_labels")
                }
            },
        },
        "gait.data.mnist",
    ),
    "G gamma sweep duplicated": ({"gait.gamma_sweep": [1e-3, 1e-3]}, "gait.gamma_sweep"),
    "G tower widths increasing": (
        {"gait.variants": ["tower"], "gait.tower_widths": [64, 100, 10]},
        "gait.tower_widths",
    ),
    "G tower not from the input width": (
        {"gait.variants": ["tower"], "gait.tower_widths": [50, 20, 10]},
        "gait.tower_widths",
    ),
    "G lr inf": ({"gait.rules.bp.lr": math.inf}, "gait.rules.bp.lr"),
    "G old global init": ({"gait.init": "orthogonal"}, "gait"),
    "G init unknown": ({"gait.rules.tp.init": "zeros"}, "gait.rules.tp.init"),
}


def mutated(changes: dict) -> dict:
    cfg = copy.deepcopy(SMOKE)
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        node = cfg
        for key in path:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return cfg


def test_the_base_config_is_valid():
    families.validate(copy.deepcopy(SMOKE))


def test_the_corpus_is_large():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_refused_naming_the_key(case):
    changes, key = CASES[case]
    with pytest.raises(FlossError) as raised:
        families.validate(mutated(changes))
    message = str(raised.value)
    assert "\n" not in message
    assert key in message, message
