"""Config validation: bad configs fail before any job with a message naming the key."""

import copy
from pathlib import Path

import pytest
import yaml
from user_files import place_user_files

from floss import families
from floss.core.errors import FlossError
from floss.core.plan import load_schema
from floss.flossing import plan as X
from floss.hessian import plan as HP

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
CONFIGS = ["config.yaml", "config/paper.yaml", "config/smoke.yaml"]


def load(name="config/smoke.yaml"):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_are_valid(name, tmp_path, monkeypatch):
    cfg = load(name)
    place_user_files(cfg, tmp_path)  # the paper config's MNIST files, as empty stand-ins
    monkeypatch.chdir(tmp_path)
    families.validate(cfg, SCHEMA)


def _set(cfg, path, value):
    *head, last = path.split(".")
    node = cfg
    for key in head:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return cfg


BAD = [
    ("training.n_neurons", "many", "training.n_neurons: 'many' is not of type 'integer'"),
    ("training.n_neurons", -3, "training.n_neurons: -3 is less than the minimum of 1"),
    (
        "training.colour",
        "red",
        "config key training: Additional properties are not allowed ('colour'",
    ),
    ("jacobian.k", 99, "config key jacobian.k: 99 exceeds the state size 8"),
    ("spectrum_k.ks", [1, 9], "config key spectrum_k.ks: 9 exceeds the state size 8"),
    ("architectures.task", "parity", "config key architectures.task: 'parity' is not one of"),
    ("training.tasks.copy", [2, 40], "config key training.tasks.copy: steps (T=20) must exceed"),
    ("device", "tpu", "config key device: 'tpu' is not one of ['cpu', 'cuda']"),
    ("lambda_control.flossing.lr", 0, "lambda_control.flossing.lr: 0 is less than or equal to"),
    (
        "training.schedules",
        ["none", "always"],
        "config key training.schedules.1: 'always' is not one",
    ),
    (  # the spelling before schedules had one name everywhere
        "training.schedules",
        ["none", "pre+during"],
        "config key training.schedules.1: 'pre+during' is not one of ['none', 'pre', 'pre-during']",
    ),
    ("training.seed", KeyError, "config key training: 'seed' is a required property"),
    ("training.curve_delays.copy", 3, "training.curve_delays.copy: 3 is not among tasks.copy"),
]


@pytest.mark.parametrize("path,value,message", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_bad_configs(path, value, message):
    cfg = _set(copy.deepcopy(load()), path, value)
    with pytest.raises(FlossError) as exc:
        families.validate(cfg, SCHEMA)
    assert message in str(exc.value)


def test_disabled_experiment_skips_cross_checks():
    cfg = _set(copy.deepcopy(load()), "jacobian.k", 99)
    cfg["jacobian"]["enabled"] = False
    families.validate(cfg, SCHEMA)
    assert "F4_long_term_jacobian" not in X.figures(cfg)


def _schedule_enums(node) -> list[list[str]]:
    """The enums of every `schedules` key in a schema."""
    if isinstance(node, list):
        return [e for v in node for e in _schedule_enums(v)]
    if not isinstance(node, dict):
        return []
    found = [node["schedules"]["items"]["enum"]] if "schedules" in node else []
    return found + [e for k, v in node.items() if k != "schedules" for e in _schedule_enums(v)]


def test_schedule_has_one_spelling():
    """Config, file names (wildcards) and NetCDF coordinates use the same schedule names."""
    hessian = load_schema(ROOT / "workflow/schemas/hessian.schema.yaml")
    enums = _schedule_enums(SCHEMA) + _schedule_enums(hessian)
    assert len(enums) == 2 and all(tuple(e) == X.SCHEDULES for e in enums)
    assert X.SCHEDULES == ("none", "pre", "pre-during")  # shell-safe file-name tokens
    assert X.WILDCARDS["schedule"].split("|") == list(X.SCHEDULES)
    assert HP.WILDCARDS["hsched"].split("|") == list(X.SCHEDULES)
    cfg = load()
    assert {s for _, _, s in X.training_conditions(cfg)} == set(cfg["training"]["schedules"])
