"""The pipeline's experiments as plain Python: config checks, file names and the options of
every stage. The Snakemake rules only look things up here (no science in .smk files), and
tests can check the plan without running Snakemake.

Layout of results (R = results/<scale>, exp = experiment block name, model = vanilla | gru |
lstm):
    R/data/{exp}/{task}_d{delay}.nc                fixed evaluation sets
    R/{exp}/{model}/init.nc                        M networks of one condition
    R/{exp}/{model}/floss_k{k}_t{target}.nc        after flossing k exponents to target
    R/{exp}/{model}/train_{task}_d{delay}_{schedule}.nc
    R/{exp}/{model}/eval_{task}_d{delay}_{schedule}.nc
    R/{exp}/{model}/spectrum_{name}.nc, jacobian_{name}.nc   of network file {name}.nc
    R/figures/{figure}.{nc,pdf,png}
task is `copy` or `xor{h}`; schedule is none | pre | pre-during (one spelling: config, file
names, NetCDF coordinates).
"""

from __future__ import annotations

from typing import Any

from floss.core.errors import FlossError
from floss.core.plan import fmt, results_dir
from floss.flossing.checks import EXPERIMENTS, state_size
from floss.flossing.checks import check as check  # the contract's plan.check

EXPERIMENT_OF = {
    "F1_lambda_control": "lambda_control",
    "F2_spectrum_k": "spectrum_k",
    "F3_gradient_delay": "training",
    "F4_long_term_jacobian": "jacobian",
    "F5_preflossing": "training",
    "F6_flossing_during": "training",
    "F7_architectures": "architectures",
    "F8_scaling": "scaling",
}
SCHEDULES = ("none", "pre", "pre-during")  # the schema's enum of training.schedules
WILDCARDS = {
    "exp": "|".join(EXPERIMENTS),
    "model": "vanilla|gru|lstm",
    "k": r"\d+",
    "target": r"-?\d+(\.\d+)?",
    "task": r"copy|xor\d+",
    "delay": r"\d+",
    "schedule": "|".join(SCHEDULES),
    "name": r"init|floss_k\d+_t-?\d+(\.\d+)?|train_[a-z0-9]+_d\d+_[a-z-]+",
}


# --- names -----------------------------------------------------------------------------------
def task_label(name: str, order: int | None = None) -> str:
    return "copy" if name == "copy" else f"xor{1 if order is None else order}"


def parse_task(label: str) -> tuple[str, int]:
    return ("copy", 0) if label == "copy" else ("xor", int(label[3:]))


# --- stage options ---------------------------------------------------------------------------
def init_options(config: dict, exp: str, model: str) -> dict[str, Any]:
    c = config[exp]
    opts: dict[str, Any] = {
        "model": model,
        "neurons": c["n_neurons"],
        "networks": c["n_networks"],
        "seed": c["seed"],
        "batch": c.get("batch", 1 if exp in ("lambda_control", "spectrum_k", "jacobian") else 16),
        "dtype": config["dtype"],
    }
    if "gain_range" in c:
        opts["gain_uniform"] = c["gain_range"]
    elif isinstance(c["gain"], list):
        opts["gains"] = c["gain"]
    else:
        opts["gain"] = c["gain"]
    return opts


def flossing_options(config: dict, exp: str, k: int, target: float) -> dict[str, Any]:
    f = config[exp]["flossing"]
    return {
        "k": k,
        "target": target,
        "epochs": f["epochs"],
        "steps": f["steps"],
        "transient": f.get("transient"),
        "lr": f["lr"],
        "interval": f.get("interval", 1),
        "qr": config["qr"],
        "checkpoint_every": config["checkpoint_every"],
    }


def train_options(config: dict, exp: str, task: str, delay: int, schedule: str) -> dict[str, Any]:
    c = config[exp]
    name, order = parse_task(task)
    f = c["flossing"]
    during = c.get("during", {"every": 1, "epochs": 0, "max_episodes": 0})
    opts = {
        "task": name,
        "order": order,
        "delay": delay,
        "steps": c["steps"],
        "epochs": c["epochs"],
        "lr": c["lr"],
        "clip": c["clip"],
        # preflossing happens in its own stage; training continues its Adam state
        "schedule": "during" if schedule == "pre-during" else "none",
        "every": during["every"],
        "floss_epochs": during["epochs"],
        "max_episodes": during["max_episodes"],
        "floss_k": c["k"],
        "floss_steps": f["steps"],
        "floss_transient": f.get("transient"),
        "floss_lr": f["lr"],
        "qr": config["qr"],
        "checkpoint_every": config["checkpoint_every"],
    }
    return opts


def delay_batches(config: dict) -> list[tuple[str, str, str, str, list[int]]]:
    """(exp, model, task, schedule, delays) of every training job when `batch_delays` is on:
    the networks of one condition under all its delays advance in one batched computation
    (same N, T and k; the numbers of one job per delay, up to float rounding). [] when off."""
    if not config.get("batch_delays", False):
        return []
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    root = results_dir(config)
    for path in result_files(config):
        parts = path.removeprefix(f"{root}/").split("/")
        if len(parts) == 3 and parts[2].startswith("train_"):
            exp, model, name = parts
            task, delay, schedule = name[len("train_") : -len(".nc")].split("_", 2)
            groups.setdefault((exp, model, task, schedule), []).append(int(delay[1:]))
    return [(*key, sorted(d)) for key, d in sorted(groups.items())]


def spectrum_options(config: dict, exp: str, model: str) -> dict[str, Any]:
    c = config[exp]
    s = c.get("spectrum") or c.get("check")
    return {
        "k": state_size(model, c["n_neurons"]),
        "steps": s["steps"],
        "transient": s["transient"],
        "input": s.get("input", "task"),
        "qr": config["qr"],
    }


def data_options(config: dict, exp: str, task: str, delay: int) -> dict[str, Any]:
    c = config[exp]
    name, order = parse_task(task)
    return {
        "task": name,
        "order": order,
        "delay": delay,
        "steps": c["steps"],
        "samples": c["eval_samples"],
        "seed": c["seed"],
    }


def data_file(config: dict, exp: str, task: str, delay: int | str) -> str:
    """The fixed evaluation set of a task at one delay."""
    return f"{results_dir(config)}/data/{exp}/{task}_d{delay}.nc"


def pretrained_input(config: dict, exp: str, model: str, schedule: str) -> str:
    """The network a training run starts from: preflossed (k of the experiment, to 0) for pre
    and pre-during."""
    base = f"{results_dir(config)}/{exp}/{model}"
    if schedule == "none":
        return f"{base}/init.nc"
    return f"{base}/floss_k{config[exp]['k']}_t0.nc"


# --- what each figure needs ------------------------------------------------------------------
def training_conditions(config: dict) -> list[tuple[str, int, str]]:
    c = config["training"]
    return [
        (task_label(name), d, s)
        for name, delays in c["tasks"].items()
        for d in delays
        for s in c["schedules"]
    ]


def figure_inputs(config: dict, figure: str) -> dict[str, str]:
    """Named input files of a figure (names are how the figure code finds them)."""
    exp = EXPERIMENT_OF[figure]
    c = config[exp]
    root = results_dir(config)
    base = f"{root}/{exp}/vanilla"
    if figure == "F1_lambda_control":
        out = {"init": f"{base}/init.nc"}
        for t in c["targets"]:
            out[f"floss_t{fmt(t)}"] = f"{base}/floss_k{c.get('k', 1)}_t{fmt(t)}.nc"
            out[f"check_t{fmt(t)}"] = f"{base}/spectrum_floss_k{c.get('k', 1)}_t{fmt(t)}.nc"
        return out
    if figure == "F2_spectrum_k":
        out = {"before": f"{base}/spectrum_init.nc"}
        for k in c["ks"]:
            out[f"after_k{k}"] = f"{base}/spectrum_floss_k{k}_t0.nc"
        return out
    if figure == "F4_long_term_jacobian":
        return {
            "before": f"{base}/jacobian_init.nc",
            "after": f"{base}/jacobian_floss_k{c['k']}_t0.nc",
        }
    if figure in ("F3_gradient_delay", "F5_preflossing", "F6_flossing_during"):
        wanted = {"F3_gradient_delay": ("none", "pre"), "F5_preflossing": ("none", "pre")}
        keep = wanted.get(figure, ("none", "pre", "pre-during"))
        out = {}
        for task, d, s in training_conditions(config):
            if s in keep:
                out[f"train_{task}_d{d}_{s}"] = f"{base}/train_{task}_d{d}_{s}.nc"
                out[f"eval_{task}_d{d}_{s}"] = f"{base}/eval_{task}_d{d}_{s}.nc"
        if figure == "F3_gradient_delay":
            out["spectrum_none"] = f"{base}/spectrum_init.nc"
            out["spectrum_pre"] = f"{base}/spectrum_floss_k{c['k']}_t0.nc"
        return out
    if figure == "F8_scaling":
        return {"timings": f"{root}/scaling/timings.nc"}
    if figure == "F7_architectures":
        out = {}
        task = task_label(c["task"])
        for model in c["models"]:
            b = f"{root}/{exp}/{model}"
            out[f"{model}_before"] = f"{b}/spectrum_init.nc"
            out[f"{model}_after"] = f"{b}/spectrum_floss_k{c['k']}_t0.nc"
            for s in ("none", "pre"):
                out[f"{model}_eval_{s}"] = f"{b}/eval_{task}_d{c['delay']}_{s}.nc"
        for h in c["orders"]:
            for s in ("none", "pre"):
                out[f"order{h}_eval_{s}"] = f"{base}/eval_xor{h}_d{c['order_delay']}_{s}.nc"
        return out
    raise FlossError(f"unknown figure {figure!r}; allowed: {sorted(EXPERIMENT_OF)}")


def upstream(path: str, config: dict) -> list[str]:
    """The result files that `path` (under results_dir) is computed from (one level up)."""
    folder, name = path.rsplit("/", 1)
    parts = folder.removeprefix(f"{results_dir(config)}/").split("/")  # exp[, model]
    exp = parts[0]
    stem = name[: -len(".nc")]
    for prefix in ("spectrum_", "jacobian_"):
        if stem.startswith(prefix):
            return [f"{folder}/{stem[len(prefix) :]}.nc"]
    if stem.startswith("eval_"):
        task, delay, _ = stem[len("eval_") :].split("_", 2)
        return [
            f"{folder}/train_{stem[len('eval_') :]}.nc",
            data_file(config, exp, task, delay[1:]),
        ]
    if stem.startswith("train_"):
        schedule = stem.rsplit("_", 1)[1]
        return [pretrained_input(config, exp, parts[1], schedule)]
    if stem.startswith("floss_"):
        return [f"{folder}/init.nc"]
    return []


def scaling_options(config: dict) -> dict[str, Any]:
    c = config["scaling"]
    return {
        "neurons": c["neurons"],
        "k_rules": c["k_rules"],
        "networks": c["networks"],
        "steps": c["steps"],
        "epoch_steps": c["epoch_steps"],
        "repeats": c["repeats"],
        "qr": config["qr"],
    }


def result_files(config: dict) -> list[str]:
    """Every NetCDF result the enabled figures are built from, intermediates included, so
    that a deleted intermediate is recomputed (with what depends on it) by the next run."""
    todo = [p for f in figures(config) for p in figure_inputs(config, f).values()]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(upstream(path, config))
    return sorted(seen)


def figures(config: dict) -> list[str]:
    """Figures of the enabled experiments."""
    return [f for f, exp in EXPERIMENT_OF.items() if config[exp]["enabled"]]


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """What a figure needs besides its files: sizes for the caption, thresholds, targets."""
    exp = EXPERIMENT_OF[figure]
    c = config[exp]
    out = {
        "scale": config["scale"],
        "n_neurons": c.get("n_neurons"),
        "n_networks": c.get("n_networks"),
        "choices": choices(config, figure),
    }
    for key in (
        "targets",
        "tolerance",
        "ks",
        "k",
        "success_threshold",
        "curve_delays",
        "models",
        "orders",
        "delay",
        "order_delay",
        "task",
        "epochs",
        "steps",
        "times",
    ):
        if key in c:
            out[key] = c[key]
    if exp == "training":
        out["schedules"] = list(c["schedules"])
        out["tasks"] = {task_label(t): d for t, d in c["tasks"].items()}
    return out


FIGURES = {
    "F1_lambda_control": "Claim 1: flossing drives lambda_1 of networks with g ~ U(0, 1) to "
    "targets; per-network lambda_1 vs flossing epoch, with a long no-grad check after flossing.",
    "F2_spectrum_k": "Claim 2: flossing k exponents to 0 puts the first k near 0 with a step "
    "at i = k + 1; spectra before (gray) and after.",
    "F3_gradient_delay": "Claim 3: with flossing ||dL/dx0|| does not vanish with the delay; "
    "early-training gradient norm vs delay and the bound exp(lambda_1 t0).",
    "F4_long_term_jacobian": "Claim 4: flossing lowers the condition number of the long-term "
    "Jacobian T_t; singular values and kappa_k vs t before/after flossing.",
    "F5_preflossing": "Claim 5: preflossing raises the success rate and speeds convergence on "
    "long delays; final accuracy, success rate and learning curves.",
    "F6_flossing_during": "Claim 6: flossing during training extends the largest learnable delay; "
    "dotted verticals in the learning curves mark the flossing episodes during training, where "
    "the accuracy can drop.",
    "F7_architectures": "Claim 7: flossing works for GRU/LSTM and for tasks of higher temporal "
    "complexity h.",
    "F8_scaling": "Cost of a flossing epoch and a BPTT epoch per network against N, k and the "
    "number of networks M batched, with fitted power laws.",
}


def _flossing_text(f: dict, k: int | str) -> str:
    return f"{f['epochs']} flossing steps of Tp = {f['steps']}, lr {f['lr']:g}, k = {k}"


def choices(config: dict, figure: str) -> str:
    """The settings a figure depends on that the paper does not fix (or that this scale
    changes), for its caption."""
    c = config[EXPERIMENT_OF[figure]]
    if figure == "F1_lambda_control":
        return (
            f"{_flossing_text(c['flossing'], c.get('k', 1))} (the paper states neither lr nor "
            f"Tp; the reference trains with Tp = 55); verdicts use the long-run lambda_1 of a "
            f"{c['check']['steps']}-step no-grad spectrum after flossing, not the flossing "
            "window."
        )
    if figure in ("F2_spectrum_k", "F4_long_term_jacobian", "F7_architectures"):
        k = c["ks"] if figure == "F2_spectrum_k" else c["k"]
        return f"{_flossing_text(c['flossing'], k)}."
    if figure in ("F3_gradient_delay", "F5_preflossing", "F6_flossing_during"):
        d = c["during"]
        episodes = [d["every"] * (i + 1) for i in range(d["max_episodes"])]
        text = (
            f"Training {c['epochs']} epochs, T = {c['steps']}, batch {c['batch']}, "
            f"lr {c['lr']:g}, clip {c['clip']:g}; "
            f"preflossing {_flossing_text(c['flossing'], c['k'])}"
        )
        if figure == "F6_flossing_during":
            text += (
                f"; during training {d['max_episodes']} episodes of Ei = {d['epochs']} steps "
                f"every Ef = {d['every']} epochs (before epochs {episodes})"
            )
        if figure != "F3_gradient_delay":
            text += f"; success: final accuracy >= {c['success_threshold']}"
        return text + "."
    return ""


def figure_caption(config: dict, figure: str) -> str:
    c = config[EXPERIMENT_OF[figure]]
    if figure == "F8_scaling":
        return f"{FIGURES[figure]} N in {c['neurons']}, {config['scale']} scale."
    return (
        f"{FIGURES[figure]} N = {c['n_neurons']}, {c['n_networks']} networks per condition, "
        f"{config['scale']} scale (see docs/science.md §1.5). {choices(config, figure)}"
    ).strip()
