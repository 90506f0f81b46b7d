"""The GAIT-prop experiment plan as plain Python (no Snakemake): config checks, file names,
the options of every stage and what each figure gets (docs/science.md §4).

Layout of results (config block `gait`):
    results/gait/{data}/{variant}_{rule}.nc     one `gait-train` job: every seed of one rule
    results/gait/accuracy_table.{csv,md}         peak and final test accuracy (`gait-table`)
    results/figures/{figure}.{nc,pdf,png}        G1, G2 (the generic `figure` command)
Figures and the table take every training file, labelled DATASET/VARIANT/RULE.
"""

from __future__ import annotations

from typing import Any

from floss.core.errors import FlossError, config_error

FIGURES = {
    "G1_gait_accuracy": "GAIT-prop learns as well as BP in invertible networks and TP trails: "
    "train and test accuracy of BP, GAIT-prop and TP over training.",
    "G2_gait_alignment": "GAIT-prop's weight updates stay aligned with BP's while the weights "
    "stay near orthogonal (TP's only in linear nets): cosine with BP per layer, orthogonality "
    "error and alignment vs gamma.",
}
RULES = ("bp", "gait", "tp")  # the learning rules, in table and legend order
RULE_LABELS = {"bp": "BP", "gait": "GAIT-prop", "tp": "TP"}
WILDCARDS = {
    "gdata": "digits|mnist|fmnist|kmnist",
    "gvariant": "square|tower|linear",
    "grule": "|".join(RULES),
}
TABLE = "results/gait/accuracy_table"  # + .csv, .md
DIGITS_IMAGES, DIGITS_INPUTS = 1797, 64  # scikit-learn's 8x8 digits
DEFAULT_GAMMA = 1e-3


def _enabled(config: dict) -> bool:
    return bool(config.get("gait", {}).get("enabled"))


def check(config: dict) -> None:
    """Cross-field rules the schema cannot state (the schema has been checked before)."""
    if not _enabled(config):
        return
    g = config["gait"]
    for rule in ("bp", "tp"):
        if "gamma" in g["rules"][rule]:
            raise config_error(
                f"gait.rules.{rule}.gamma",
                "gamma is GAIT-prop's; allowed only under gait.rules.gait",
            )
    if "tower" in g["variants"]:
        widths = g["tower_widths"]
        if any(b > a for a, b in zip(widths[:-1], widths[1:])):
            raise config_error("gait.tower_widths", f"widths must not increase, got {widths}")
        if "digits" in g["datasets"] and widths[0] != DIGITS_INPUTS:
            raise config_error(
                "gait.tower_widths",
                f"must start with the digits input size {DIGITS_INPUTS}, got {widths[0]}",
            )
    if "digits" in g["datasets"]:
        fraction = g.get("digits", {}).get("test_fraction", 0.2)
        n_train = DIGITS_IMAGES - round(fraction * DIGITS_IMAGES)
        if g["batch"] > n_train:
            raise config_error(
                "gait.batch", f"{g['batch']} exceeds the {n_train} digits training images"
            )


# --- files -----------------------------------------------------------------------------------
def run_file(data: str, variant: str, rule: str) -> str:
    return f"results/gait/{data}/{variant}_{rule}.nc"


def run_label(data: str, variant: str, rule: str) -> str:
    return f"{data}/{variant}/{rule}"


def runs(config: dict) -> dict[str, str]:
    """Every training file, labelled DATASET/VARIANT/RULE (data sets, variants, rules order)."""
    g = config["gait"]
    return {
        run_label(d, v, r): run_file(d, v, r)
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
    return [*runs(config).values(), f"{TABLE}.csv", f"{TABLE}.md"]


# --- stage options ---------------------------------------------------------------------------
def train_options(config: dict, data: str, variant: str, rule: str) -> dict[str, Any]:
    """Options of `gait-train` for one data set, variant and rule (all seeds at once)."""
    g = config["gait"]
    settings = g["rules"][rule]
    opts: dict[str, Any] = {
        "dataset": data,
        "variant": variant,
        "hidden": g["hidden"],
        "init": g.get("init", "orthogonal"),
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
    }
    if variant == "tower":
        opts["widths"] = g["tower_widths"]
    if data == "digits":
        opts["test_fraction"] = g.get("digits", {}).get("test_fraction", 0.2)
        opts["split_seed"] = g.get("digits", {}).get("split_seed", 0)
    else:
        opts.update(g["data"][data])
    return opts


def table_inputs(config: dict) -> dict[str, str]:
    return runs(config)


def table_params(config: dict) -> dict[str, Any]:
    return {"caption": _runs_caption(config)}


# --- figures ---------------------------------------------------------------------------------
def figures(config: dict) -> list[str]:
    return list(FIGURES) if _enabled(config) else []


def figure_inputs(config: dict, figure: str) -> dict[str, str]:
    _known(figure)
    return runs(config)


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """The caption's run description; G2 shows the first configured variant."""
    params: dict[str, Any] = {"caption": _runs_caption(config)}
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
    return f"{what} {_runs_caption(config)}"


def _known(figure: str) -> str:
    if figure not in FIGURES:
        raise FlossError(f"unknown GAIT-prop figure {figure!r}; allowed: {sorted(FIGURES)}")
    return figure


def _runs_caption(config: dict) -> str:
    """How the runs were made: seeds, schedule, net, per-rule lr / lambda, gamma."""
    g = config["gait"]
    return (
        f"{config['scale']} scale: {g['n_seeds']} seeds per rule, {g['epochs']} epochs, "
        f"batch {g['batch']}, {g['hidden']} hidden layers (square), lr/lambda "
        + ", ".join(f"{r} {v['lr']:g}/{v['reg']:g}" for r, v in g["rules"].items())
        + f", gamma {g['rules']['gait'].get('gamma', DEFAULT_GAMMA):g}."
    )
