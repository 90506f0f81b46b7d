"""The Hessian experiments as plain Python (no Snakemake): file names, stage options, the
cross-field config checks, and each figure's inputs, parameters and caption.
workflow/rules/hessian.smk and the figure rule only look things up here.

    results/hessian/train_{hrule}_{hfeedback}.nc            one learning rule, all seeds
    results/hessian/flossing/curvature_{htask}_d{hdelay}_{hsched}.nc    H4, per condition
    results/figures/{figure}.{png,pdf,nc}           via the figure rule
"""

from __future__ import annotations

from typing import Any

from floss.core.errors import config_error

FIGURES = {
    "H1_curvature_training": "leading Hessian eigenvalue vs training iteration",
    "H2_generalization": "generalization gap and test accuracy vs final leading eigenvalue",
    "H3_spectral_density": "spectral density of the final Hessian (SLQ)",
    "H4_flossing_curvature": "curvature of flossed vs unflossed networks against the task delay",
}
WILDCARDS = {
    "hrule": "bptt|three_factor",
    "hfeedback": "symmetric|random",
    "htask": r"copy|xor\d+",
    "hdelay": r"\d+",
    "hsched": "none|pre|pre-during",
}
SCHEDULE_FILE = {"none": "none", "pre": "pre", "pre+during": "pre-during"}


def enabled(config: dict) -> bool:
    return bool(config.get("hessian", {}).get("enabled"))


def flossing_enabled(config: dict) -> bool:
    return enabled(config) and bool(config["hessian"].get("flossing", {}).get("enabled"))


def check(config: dict) -> None:
    """Cross-field rules the schema cannot express (the schema has run before)."""
    if not enabled(config):
        return
    c = config["hessian"]
    for rule in c["rules"]:
        if rule not in c["iterations"]:
            raise config_error(
                "hessian.iterations",
                f"no entry for rule {rule!r} (has {sorted(c['iterations'])}); "
                f"allowed: one entry per rule of hessian.rules {c['rules']}",
            )
        if c["iterations"][rule] < c["eval_points"]:
            raise config_error(
                f"hessian.iterations.{rule}",
                f"{c['iterations'][rule]} is fewer than eval_points ({c['eval_points']}); "
                "allowed: >= eval_points",
            )
    if c["curvature"]["slq_probes"] < 1:
        raise config_error(
            "hessian.curvature.slq_probes", "must be >= 1 (figure H3 is the density)"
        )
    if c["curvature"]["top_k"] > c["curvature"]["lanczos_max_iter"]:
        raise config_error(
            "hessian.curvature.top_k",
            f"exceeds lanczos_max_iter; allowed: <= {c['curvature']['lanczos_max_iter']}",
        )
    if flossing_enabled(config):
        _check_flossing(config)


def _check_flossing(config: dict) -> None:
    f = config["hessian"]["flossing"]
    exp = config.get(f["experiment"])
    if exp is None or "tasks" not in exp:
        raise config_error(
            "hessian.flossing.experiment",
            f"{f['experiment']!r} is not a training experiment block (allowed: training)",
        )
    name = "copy" if f["task"] == "copy" else "xor"
    have = exp["tasks"].get(name, [])
    for d in f["delays"]:
        if d not in have:
            raise config_error(
                "hessian.flossing.delays",
                f"{d} is not trained by {f['experiment']}.tasks.{name} ({have}); "
                "allowed: those delays",
            )
    for s in f["schedules"]:
        if s not in exp["schedules"]:
            raise config_error(
                "hessian.flossing.schedules",
                f"{s!r} is not in {f['experiment']}.schedules; allowed: {exp['schedules']}",
            )


def conditions(config: dict) -> list[tuple[str, str]]:
    c = config["hessian"]
    return [(r, fb) for fb in c["feedback"] for r in c["rules"]]


def train_file(rule: str, feedback: str) -> str:
    return f"results/hessian/train_{rule}_{feedback}.nc"


def flossing_conditions(config: dict) -> list[tuple[str, int, str]]:
    f = config["hessian"]["flossing"]
    return [(f["task"], d, SCHEDULE_FILE[s]) for d in f["delays"] for s in f["schedules"]]


def curvature_file(task: str, delay: int, sched: str) -> str:
    return f"results/hessian/flossing/curvature_{task}_d{delay}_{sched}.nc"


def network_file(config: dict, task: str, delay: int | str, sched: str) -> dict[str, str]:
    exp = config["hessian"]["flossing"]["experiment"]
    return {
        "net": f"results/{exp}/vanilla/train_{task}_d{delay}_{sched}.nc",
        "data": f"results/data/{exp}/{task}_d{delay}.nc",
    }


def figures(config: dict) -> list[str]:
    if not enabled(config):
        return []
    names = ["H1_curvature_training", "H2_generalization", "H3_spectral_density"]
    if flossing_enabled(config):
        names.append("H4_flossing_curvature")
    return names


def figure_inputs(config: dict, figure: str) -> dict[str, str]:
    if figure != "H4_flossing_curvature":
        return {f"{r}_{fb}": train_file(r, fb) for r, fb in conditions(config)}
    exp = config["hessian"]["flossing"]["experiment"]
    out = {}
    for task, d, s in flossing_conditions(config):
        out[f"curvature_{task}_d{d}_{s}"] = curvature_file(task, d, s)
        out[f"eval_{task}_d{d}_{s}"] = f"results/{exp}/vanilla/eval_{task}_d{d}_{s}.nc"
    return out


def result_files(config: dict) -> list[str]:
    """The family's NetCDF results (the figures' inputs of its own stages)."""
    if not enabled(config):
        return []
    files = [train_file(r, fb) for r, fb in conditions(config)]
    if flossing_enabled(config):
        files += [curvature_file(*k) for k in flossing_conditions(config)]
    return files


def _curvature_options(c: dict) -> dict[str, Any]:
    return {k.replace("_", "-"): v for k, v in c.items()}


def train_options(config: dict, rule: str, feedback: str) -> dict[str, Any]:
    c = config["hessian"]
    d = c["data"]
    opts = {
        "rule": rule,
        "feedback": feedback,
        "data": d["name"],
        "pad-rows": d["pad_rows"],
        "ext-time": d["ext_time"],
        "split-seed": d["split_seed"],
        "seed": c["seed"],
        "networks": c["n_networks"],
        "neurons": c["n_rec"],
        "reg-l2": c["reg_l2"],
        "lr": c["lr"],
        "batch": c["batch"],
        "iterations": c["iterations"][rule],
        "eval-points": c["eval_points"],
        "hessian-params": c["hessian"]["params"],
        "hessian-samples": c["hessian"]["samples"],
        "hvp": c["hessian"]["hvp"],
        "dtype": c["dtype"],
        **_curvature_options(c["curvature"]),
    }
    if d["name"] == "mnist":
        for key, path in d["mnist"].items():
            opts[f"mnist-{key.replace('_', '-')}"] = path
    return opts


def curvature_options(config: dict) -> dict[str, Any]:
    c = config["hessian"]
    f = c["flossing"]
    merged = {**c["curvature"], **f.get("curvature", {})}
    return {"params": f["params"], "hvp": f["hvp"], **_curvature_options(merged)}


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """What a figure needs besides its files: the sizes its caption names, H4's conditions."""
    c = config["hessian"]
    out = {
        "scale": config["scale"],
        "n_rec": c["n_rec"],
        "n_networks": c["n_networks"],
        "data": c["data"]["name"],
        "hessian_params": c["hessian"]["params"],
    }
    if figure == "H4_flossing_curvature":
        f = c["flossing"]
        exp = config[f["experiment"]]
        out.update(
            task=f["task"],
            delays=f["delays"],
            schedules=[SCHEDULE_FILE[s] for s in f["schedules"]],
            n_neurons=exp["n_neurons"],
            n_flossing_networks=exp["n_networks"],
            params=f["params"],
        )
    return out


def model_caption(figure: str, params: dict) -> str:
    """The networks and the Hessian a figure shows, from its figure_params: H1-H3 the ReLU
    RNN trained by the learning rules, H4 the gradient-flossing vanilla RNNs."""
    if figure == "H4_flossing_curvature":
        return (
            f"Gradient-flossing vanilla RNNs (N = {params['n_neurons']}, "
            f"{params['n_flossing_networks']} networks per condition, {params['scale']} scale) "
            f"trained on delayed {params['task']}; Hessian of the true task loss w.r.t. "
            f"{', '.join(params['params'])} on the fixed evaluation set."
        )
    return (
        f"ReLU RNN, N = {params['n_rec']}, {params['n_networks']} seeds per rule, sequential "
        f"{params['data']}, {params['scale']} scale; Hessian of the true loss w.r.t. "
        f"{', '.join(params['hessian_params'])} on a fixed validation batch."
    )


def figure_caption(config: dict, figure: str) -> str:
    return f"{figure}: {FIGURES[figure]}. {model_caption(figure, figure_params(config, figure))}"
