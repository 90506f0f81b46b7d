"""Cross-field rules of the gradient-flossing config blocks that the schema cannot express;
each failure names its key (floss.core.errors.config_error)."""

from __future__ import annotations

from floss.core.errors import config_error
from floss.flossing.scaling import k_rule_problem
from floss.rnn.tasks import Task

EXPERIMENTS = ("lambda_control", "spectrum_k", "jacobian", "training", "architectures", "scaling")


def check(config: dict) -> None:
    """Rules of the gradient-flossing blocks that the schema cannot express."""
    for exp in EXPERIMENTS:
        c = config[exp]
        if not c["enabled"]:
            continue
        if isinstance(c.get("gain"), list) and len(c["gain"]) != c["n_networks"]:
            _fail(f"{exp}.gain", f"{len(c['gain'])} gains for {c['n_networks']} networks")
        _CROSS[exp](c, exp)


def _fail(key: str, message: str):
    raise config_error(key, message)


def _check_k(k: int, state: int, key: str) -> None:
    if k > state:
        _fail(key, f"{k} exceeds the state size {state} (allowed 1..{state})")


def _check_task(name: str, delay: int, steps: int, key: str, order: int | None = None) -> None:
    try:
        Task.from_name(name, delay, steps, order=order)
    except ValueError as exc:
        _fail(key, str(exc))


def _check_lambda(c: dict, key: str) -> None:
    _check_k(c.get("k", 1), c["n_neurons"], f"{key}.k")
    lo, hi = c["gain_range"]
    if lo > hi:
        _fail(f"{key}.gain_range", f"lower bound {lo} exceeds upper bound {hi}")
    _check_spectrum(c["check"], f"{key}.check")


def _check_spectrum(c: dict, key: str) -> None:
    if c["transient"] >= c["steps"]:
        _fail(f"{key}.transient", f"{c['transient']} must be < steps ({c['steps']})")


def _check_spectrum_k(c: dict, key: str) -> None:
    for k in c["ks"]:
        _check_k(k, c["n_neurons"], f"{key}.ks")
    _check_spectrum(c["spectrum"], f"{key}.spectrum")


def _check_jacobian(c: dict, key: str) -> None:
    _check_k(c["k"], c["n_neurons"], f"{key}.k")


def _check_training(c: dict, key: str) -> None:
    _check_k(c["k"], c["n_neurons"], f"{key}.k")
    _check_spectrum(c["spectrum"], f"{key}.spectrum")
    for task, delays in c["tasks"].items():
        for d in delays:
            _check_task(task, d, c["steps"], f"{key}.tasks.{task}")
    for task, d in c["curve_delays"].items():
        if d not in c["tasks"].get(task, []):
            _fail(f"{key}.curve_delays.{task}", f"{d} is not among tasks.{task} delays")


def _check_architectures(c: dict, key: str) -> None:
    for model in c["models"]:
        _check_k(c["k"], state_size(model, c["n_neurons"]), f"{key}.k")
    _check_k(c["k"], c["n_neurons"], f"{key}.k")
    _check_spectrum(c["spectrum"], f"{key}.spectrum")
    _check_task(c["task"], c["delay"], c["steps"], f"{key}.delay")
    for h in c["orders"]:
        _check_task("xor", c["order_delay"], c["steps"], f"{key}.orders", order=h)


def _check_scaling(c: dict, key: str) -> None:
    for rule in c["k_rules"]:
        if problem := k_rule_problem(rule, c["neurons"]):
            _fail(f"{key}.k_rules", problem)
    if c["steps"] > c["epoch_steps"]:
        _fail(f"{key}.steps", f"{c['steps']} exceeds epoch_steps ({c['epoch_steps']})")


_CROSS = {
    "lambda_control": _check_lambda,
    "spectrum_k": _check_spectrum_k,
    "jacobian": _check_jacobian,
    "training": _check_training,
    "architectures": _check_architectures,
    "scaling": _check_scaling,
}


def state_size(model: str, n_neurons: int) -> int:
    return 2 * n_neurons if model == "lstm" else n_neurons
