"""Synthetic stage outputs in the layouts the stages write, for rendering any figure without
running its experiment: the claims tests measure figures rendered from them and
tests/kernel/test_figure_layout.py checks every figure's layout on them."""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss import families
from floss.core.plan import results_dir
from floss.flossing import plan as X
from floss.surrogate import plan as S

GAIT_SEEDS = (1, 2, 3)


# --- flossing --------------------------------------------------------------------------------
def _during_epochs(c: dict) -> np.ndarray:
    """The training epochs of a pre-during run's flossing steps (floss.rnn.training.Trainer)."""
    d = c["during"]
    episodes = [d["every"] * (i + 1) for i in range(d["max_episodes"])]
    return np.repeat([e for e in episodes if e <= c["epochs"]], d["epochs"]).astype(np.int64)


def flossing_stage_output(label: str, path: str, cfg: dict, rng) -> xr.Dataset:
    """A synthetic stage output in the layout the stage writes (floss/flossing/stages.py)."""
    rel = path.removeprefix(f"{results_dir(cfg)}/").split("/")  # exp[, model], name
    exp, model = rel[0], rel[1] if len(rel) > 2 else "vanilla"
    c = cfg[exp] if exp in cfg else cfg["scaling"]
    m = c.get("n_networks", 1)
    name = path.rsplit("/", 1)[1]
    if name.startswith("spectrum_"):
        d = X.state_size(model, c["n_neurons"])
        lam = -np.sort(rng.uniform(0, 1, (m, d)), axis=1)
        return xr.Dataset({"lyapunov": (("network", "exponent"), lam)})
    if name.startswith("jacobian_"):
        d, t = c["n_neurons"], np.asarray(c["times"])
        logsv = -np.sort(rng.uniform(0, 0.3, (m, 1, d)), axis=2) * t[:, None]
        logsv[:, -1, -1] = np.nan  # below resolution
        return xr.Dataset(
            {"log_singular_value": (("network", "time", "index"), logsv)}, coords={"time": t}
        )
    if name == "init.nc":
        return xr.Dataset({"gain": (("network",), rng.uniform(0, 1, m))})
    if name.startswith("floss_"):
        e = c["flossing"]["epochs"]
        lam = rng.normal(-0.3, 0.2, (m, e, c.get("k", 1)))
        return xr.Dataset({"flossing_lyapunov": (("network", "flossing_epoch", "exponent"), lam)})
    if name.startswith("train_"):
        e = c["epochs"]
        ds = xr.Dataset(
            {
                "grad_norm_x0": (("network", "epoch"), rng.lognormal(-3, 1, (m, e))),
                "accuracy": (("network", "epoch"), rng.uniform(0.5, 1, (m, e))),
                "status": (("network",), np.r_[1, np.zeros(m - 1, int)]),
            }
        )
        steps = _during_epochs(c) if name.endswith("_pre-during.nc") and "during" in c else []
        ds["flossing_loss"] = (("network", "flossing_step"), rng.random((m, len(steps))))
        return ds.assign_coords(flossing_step_epoch=("flossing_step", np.asarray(steps, int)))
    if name.startswith("eval_"):
        return xr.Dataset({"accuracy": (("network",), rng.uniform(0.5, 1, m))})
    neurons, rules, nets = c["neurons"], c["k_rules"], c["networks"]
    t = rng.uniform(1e-3, 1e-2, (2, len(neurons), len(rules), len(nets)))
    t[1, :, 1:] = np.nan  # BPTT does not depend on k
    dims = ("work", "neurons", "k_rule", "networks")
    return xr.Dataset(
        {
            "seconds_per_epoch": (dims, t),
            "saved_bytes_per_epoch": (dims, t * 1e9),
            "cuda_peak_bytes": (dims, np.full_like(t, np.nan)),
            "k": (("neurons", "k_rule"), np.ones((len(neurons), len(rules)), int)),
        },
        coords={
            "work": ["flossing", "bptt"],
            "neurons": neurons,
            "k_rule": rules,
            "networks": nets,
        },
        attrs={"steps_measured": 5, "epoch_steps": 300, "device": "cpu"},
    )


# --- surrogate -------------------------------------------------------------------------------
def surrogate_stage_outputs(cfg: dict, rng) -> dict[str, dict[str, xr.Dataset]]:
    """Every surrogate figure's labelled inputs (floss/surrogate/stages.py layouts)."""
    b, x, s = (cfg["surrogate"][k] for k in ("binary", "xor", "spiking"))
    nb, nx, ns = b["n_networks"], x["n_networks"], s["n_networks"]
    spec = lambda n, m: xr.Dataset({"lyapunov": (("network", "index"), -rng.random((n, m)))})  # noqa: E731
    floss = lambda n, k: xr.Dataset(  # noqa: E731
        {"flossing_lyapunov": (("network", "epoch", "k"), -rng.random((n, 12, k)) / 2)}
    )
    train = lambda: xr.Dataset(  # noqa: E731
        {
            "accuracy": (("network", "epoch"), 0.5 + rng.random((nx, 30)) / 2),
            "grad_norm_x0": (("network", "epoch"), 10 ** (-8 * rng.random((nx, 30)))),
        }
    )
    runs = {f"d{d}_{m}": train() for d in x["delays"] for m in x["modes"]}
    s1a_in = S.figure_inputs(cfg, "S1A_binary_lambda1")
    out = {"S1A_binary_lambda1": {label: floss(nb, 1) for label in s1a_in}}
    s1b_in = {"before": spec(nb, b["n_neurons"])}
    s1b_in.update({f"after_k{k}": spec(nb, b["n_neurons"]) for k in b["ks"]})
    out["S1B_binary_spectrum"] = s1b_in
    n2 = 2 * s["n_neurons"]
    out["S3_spiking"] = {"before": spec(ns, n2), "after": spec(ns, n2), "floss": floss(ns, s["k"])}
    for fig in S.FIGURES:
        if fig.startswith("S2"):
            out[fig] = {k: runs[k] for k in S.figure_inputs(cfg, fig)}
    return out


# --- hessian ---------------------------------------------------------------------------------
def hessian_flossing_inputs(delays=(2, 4), scheds=("none", "pre"), m=3, task="copy"):
    """H4's inputs: curvature_TASK_dD_S (floss hessian-curvature) and eval_TASK_dD_S."""
    rng, out = np.random.default_rng(7), {}
    for d in delays:
        for s in scheds:
            cur = xr.Dataset(
                {v: (("network",), rng.uniform(1, 50, m)) for v in ("lambda_max", "trace")}
            )
            cur["lambda_rayleigh"] = cur["lambda_max"] * rng.choice([1.0, -1.0], m)
            cur["task_loss"] = (("network",), rng.uniform(0.1, 0.7, m), {"units": "1"})
            out[f"curvature_{task}_d{d}_{s}"] = cur
            acc = rng.uniform(0.85, 1.0, m)
            out[f"eval_{task}_d{d}_{s}"] = xr.Dataset({"accuracy": (("network",), acc)})
    return out


def hessian_run(rng, m=3, points=6, probes=2, nodes=8, iterations=2000) -> xr.Dataset:
    """One learning rule's `hessian-train` output (floss/hessian/training.py), as H1-H3 read it."""
    it = np.linspace(0, iterations, points).astype(int)
    acc = {split: rng.uniform(0.3, 0.95, m) for split in ("train", "test")}
    return xr.Dataset(
        {
            "lambda_max": (("network", "point"), 10 ** rng.uniform(0, 3, (m, points))),
            "val_accuracy": (("network", "point"), rng.uniform(0.1, 0.95, (m, points))),
            "final_lambda_max": (("network",), 10 ** rng.uniform(1, 2, m)),
            "final_lambda_rayleigh": (("network",), 10 ** rng.uniform(1, 2, m)),
            "train_accuracy": (("network",), acc["train"]),
            "test_accuracy": (("network",), acc["test"]),
            "generalization_gap": (("network",), acc["train"] - acc["test"]),
            "slq_nodes": (("network", "probe", "node"), rng.normal(0, 5, (m, probes, nodes))),
            "slq_weights": (("network", "probe", "node"), np.full((m, probes, nodes), 1 / nodes)),
        },
        coords={"iteration": ("point", it)},
    )


# --- gait ------------------------------------------------------------------------------------
def gait_run(
    final,
    peak=None,
    *,
    cos_gamma=None,
    cos_train=0.95,
    orth=1.0,
    records=3,
    seeds=GAIT_SEEDS,
    init="orthogonal",
):
    """One training result in `gait-train`'s layout: per-seed final and peak test accuracy
    (curve 0.1 -> peak -> final), the GAIT-prop probe of the worst layer (layer 1; the others are
    1) over training and vs gamma at the initial weights (drawn as `init`), and ||WW^T - I||
    after the start."""
    final = np.broadcast_to(np.asarray(final, float), (len(seeds),))
    peak = final if peak is None else np.broadcast_to(np.asarray(peak, float), (len(seeds),))
    cos_gamma = cos_gamma or {1e-3: 0.999, 1.0: 0.7}
    n_layers, epochs = 3, 10
    test = np.stack([np.full_like(final, 0.1), peak, (peak + final) / 2, final], -1)
    al = np.ones((2, len(seeds), records, n_layers))
    al[0, :, 1:, 0] = cos_train
    al[1] = 0.1
    orth_error = np.zeros((len(seeds), records, n_layers))
    orth_error[:, 1:] = orth
    gammas = np.array(sorted(cos_gamma))
    ga = np.ones((2, len(seeds), len(gammas), n_layers))
    ga[:, :, :, 0] = [cos_gamma[g] for g in gammas]
    return xr.Dataset(
        {
            "train_accuracy": (("seed", "eval"), np.minimum(test + 0.01, 1.0)),
            "test_accuracy": (("seed", "eval"), test),
            "alignment": (("probe", "seed", "record", "layer"), al),
            "orth_error": (("seed", "record", "layer"), orth_error),
            "gamma_alignment": (("when", "seed", "gamma", "layer"), ga),
        },
        coords={
            "seed": list(seeds),
            "eval_epoch": ("eval", np.linspace(0, epochs, 4)),
            "record_epoch": ("record", np.linspace(0, epochs, records)),
            "layer": np.arange(1, n_layers + 1),
            "probe": ["gait", "tp"],
            "gamma": gammas,
            "when": ["initial", "final"],
        },
        attrs={"init": init},
    )


# --- any figure ------------------------------------------------------------------------------
def figure_inputs(cfg: dict, figure: str, seed: int = 0) -> tuple[dict[str, xr.Dataset], dict]:
    """Synthetic labelled inputs of `figure` under config `cfg` and the plan's params for it."""
    family = families.family_of(figure)
    plan = families.part(family, "plan")
    rng = np.random.default_rng(seed)
    params = plan.figure_params(cfg, figure)
    labels = plan.figure_inputs(cfg, figure)
    if family == "flossing":
        inputs = {k: flossing_stage_output(k, p, cfg, rng) for k, p in labels.items()}
    elif family == "surrogate":
        inputs = surrogate_stage_outputs(cfg, rng)[figure]
    elif figure == "H4_flossing_curvature":
        m = params["n_flossing_networks"]
        inputs = hessian_flossing_inputs(params["delays"], params["schedules"], m, params["task"])
    elif family == "hessian":
        inputs = {k: hessian_run(rng, params["n_networks"]) for k in labels}
    else:
        finals = {"bp": 0.95, "gait": 0.9, "tp": 0.6}
        inputs = {}
        for label in labels:
            rule = label.rsplit("/", 1)[1]
            final = finals[rule] + rng.normal(0, 0.01, len(GAIT_SEEDS))
            inputs[label] = gait_run(final, init=params["init"][rule])
    return inputs, params
