"""The surrogate-flossing experiments (docs/science.md §2) as plain Python: checks, files,
options.

Layout (config block `surrogate`; R = results/<scale>):
    R/surrogate/binary_gain{c}_g{g}/init.nc, floss_k{k}.nc, spectrum_{init|floss_k{k}}.nc
        (c: coupling gain of J, g: surrogate sharpness)
    R/surrogate/lif/init.nc, floss_k{k}.nc, spectrum_{init|floss_k{k}}.nc
    R/surrogate/xor/init.nc, train_d{d}_{mode}.nc       mode: none|periodic|adaptive
    R/figures/{S1A_binary_lambda1, S1B_binary_spectrum, S2A_xor_accuracy,
                     S2B_accuracy_vs_delay, S2C_gradient_vs_epoch, S2D_gradient_vs_delay,
                     S3_spiking}.{png,pdf,nc}
The delay d is the surrogate paper's (y_t = x_{t-d/2} XOR x_{t-d}), i.e. d = 2 d' of
docs/science.md §1.2.
"""

from __future__ import annotations

from typing import Any

from floss.core.errors import FlossError, config_error
from floss.core.plan import fmt, results_dir
from floss.rnn.tasks import Task
from floss.surrogate.training import MODES

FIGURES = {
    "S1A_binary_lambda1": "Surrogate flossing drives lambda_1 of binary RNNs to 0, faster for a "
    "softer surrogate (smaller sharpness g); lambda_1 against flossing epochs (loss lambda_1^2), "
    "one panel per coupling gain.",
    "S1B_binary_spectrum": "Flossing k exponents of a binary RNN puts the first k of its full "
    "surrogate Lyapunov spectrum near 0; spectra after flossing k against before (gray).",
    "S2A_xor_accuracy": "Flossing (the reference's periodic schedule or adaptive flossing, "
    "lambda_1 checked every Ef epochs) lets binary RNNs learn the delayed XOR task; accuracy "
    "during training, median and networks.",
    "S2B_accuracy_vs_delay": "With flossing the final accuracy (mean over the last epochs) "
    "stays high for longer delays d; final accuracy against d, per flossing mode.",
    "S2C_gradient_vs_epoch": "Without flossing the surrogate gradient with respect to the "
    "initial state h_0 vanishes; its norm during training (log axis), per flossing mode.",
    "S2D_gradient_vs_delay": "Flossing keeps the surrogate gradient with respect to h_0 from "
    "vanishing with the delay; its norm averaged over training epochs against d.",
    "S3_spiking": "Surrogate flossing of a current-based LIF network: spectrum (2N exponents) "
    "before and after flossing k exponents, and lambda_1, lambda_k of the flossing window "
    "against flossing epochs.",
}
WILDCARDS = {
    "sgroup": r"binary_gain[0-9.]+_g[0-9.]+|lif|xor",
    "sk": r"\d+",
    "sname": r"init|floss_k\d+",
    "sd": r"\d+",
    "smode": "|".join(MODES),
}
#: keys of the `spiking` block passed to surrogate-init as they are
LIF_OPTIONS = ("jacobian_sharpness", "backward_sharpness", "n_inputs", "input_gain", "rate")
LIF_OPTIONS += ("threshold", "tau_mem", "tau_syn", "dt")


def _enabled(config: dict) -> bool:
    return bool(config.get("surrogate", {}).get("enabled"))


def _fail(key: str, message: str):
    raise config_error(f"surrogate.{key}", message)


def check(config: dict) -> None:
    """Cross-field rules of the `surrogate` block (the schema checked the rest)."""
    if not _enabled(config):
        return
    c = config["surrogate"]
    b, x, s = c["binary"], c["xor"], c["spiking"]
    if b["gain"] in b["compare_gains"]:
        _fail("binary.compare_gains", f"repeats binary.gain ({b['gain']}); list other gains only")
    for k in b["ks"]:
        if k > b["n_neurons"]:
            _fail("binary.ks", f"{k} exceeds n_neurons ({b['n_neurons']})")
    if x["k"] > x["n_neurons"]:
        _fail("xor.k", f"{x['k']} exceeds n_neurons ({x['n_neurons']})")
    if s["k"] > 2 * s["n_neurons"]:
        _fail("spiking.k", f"{s['k']} exceeds the state size 2N = {2 * s['n_neurons']}")
    for key, sub in (("binary.spectrum", b["spectrum"]), ("spiking.spectrum", s["spectrum"])):
        if sub["transient"] >= sub["steps"]:
            _fail(f"{key}.transient", f"{sub['transient']} must be < steps ({sub['steps']})")
    for key, f in (("binary.flossing", b["flossing"]), ("spiking.flossing", s["flossing"])):
        if f.get("transient", 0) >= f["steps"]:
            _fail(f"{key}.transient", f"{f['transient']} must be < steps ({f['steps']})")
    for d in x["delays"]:
        if d % 2:
            _fail("xor.delays", f"{d} is odd; d = 2 d' must be even (y_t = x_(t-d/2) ^ x_(t-d))")
        try:
            Task.from_name("xor", d // 2, x["steps"])
        except ValueError as exc:
            _fail("xor.delays", str(exc))
    if x["curve_delay"] not in x["delays"]:
        _fail("xor.curve_delay", f"{x['curve_delay']} is not among xor.delays {x['delays']}")
    if x["final_window"] > x["epochs"]:
        _fail("xor.final_window", f"{x['final_window']} exceeds epochs ({x['epochs']})")
    a = x["adaptive"]
    if a["check"]["transient"] >= a["check"]["steps"]:
        _fail("xor.adaptive.check.transient", "must be < xor.adaptive.check.steps")


# --- groups and files --------------------------------------------------------------------------
def root(config: dict) -> str:
    """The folder of the family's results: R/surrogate."""
    return f"{results_dir(config)}/surrogate"


def binary_group(gain: float, sharpness: float) -> str:
    return f"binary_gain{fmt(gain)}_g{fmt(sharpness)}"


def s1a_gains(config: dict) -> list[float]:
    """Coupling gains S1A draws: binary.gain (the reference's), then binary.compare_gains."""
    b = config["surrogate"]["binary"]
    return [b["gain"], *b["compare_gains"]]


def figures(config: dict) -> list[str]:
    """The figures of the experiment, if the `surrogate` block is enabled."""
    return list(FIGURES) if _enabled(config) else []


def figure_inputs(config: dict, figure: str) -> dict[str, str]:
    """The labelled NetCDF files figure `figure` is built from."""
    c = config["surrogate"]
    b, x = c["binary"], c["xor"]
    top = root(config)
    if figure == "S1A_binary_lambda1":
        return {
            f"gain{fmt(c_)}_g{fmt(g)}": f"{top}/{binary_group(c_, g)}/floss_k1.nc"
            for c_ in s1a_gains(config)
            for g in b["sharpness"]
        }
    if figure == "S1B_binary_spectrum":
        base = f"{top}/{binary_group(b['gain'], b['spectrum_sharpness'])}"
        out = {"before": f"{base}/spectrum_init.nc"}
        out.update({f"after_k{k}": f"{base}/spectrum_floss_k{k}.nc" for k in b["ks"]})
        return out
    if figure == "S3_spiking":
        k = c["spiking"]["k"]
        return {
            "before": f"{top}/lif/spectrum_init.nc",
            "after": f"{top}/lif/spectrum_floss_k{k}.nc",
            "floss": f"{top}/lif/floss_k{k}.nc",
        }
    if figure in FIGURES:
        delays = [x["curve_delay"]] if figure in ("S2A_xor_accuracy",) else x["delays"]
        return {f"d{d}_{m}": f"{top}/xor/train_d{d}_{m}.nc" for d in delays for m in x["modes"]}
    raise FlossError(f"unknown surrogate figure {figure!r}; allowed: {list(FIGURES)}")


def result_files(config: dict) -> list[str]:
    """Every NetCDF the figures are made from, with their inputs (init and flossing files);
    the figures themselves are not in it."""
    files = {p for f in figures(config) for p in figure_inputs(config, f).values()}
    for p in list(files):
        folder, name = p.rsplit("/", 1)
        files.add(f"{folder}/init.nc")
        if name.startswith("spectrum_floss"):
            files.add(f"{folder}/{name[len('spectrum_') :]}")
    return sorted(files)


# --- stage options -----------------------------------------------------------------------------
def init_options(config: dict, group: str) -> dict[str, Any]:
    c = config["surrogate"]
    if group == "xor":
        x = c["xor"]
        return _net(x, "binary", batch=x["batch"], gain=x["gain"], sharpness=x["sharpness"])
    if group == "lif":
        s = c["spiking"]
        opts = _net(s, "spiking", batch=1, gain=s["gain"])
        for key in LIF_OPTIONS:
            opts[key.replace("n_inputs", "inputs")] = s[key]
        opts["reset_in_jacobian"] = s["reset_in_jacobian"]
        return opts
    gain, sharp = (float(v) for v in group.removeprefix("binary_gain").split("_g"))
    return _net(c["binary"], "binary", batch=1, gain=gain, sharpness=sharp)


def _net(block: dict, model: str, **kw) -> dict[str, Any]:
    return {
        "model": model,
        "neurons": block["n_neurons"],
        "networks": block["n_networks"],
        "seed": block["seed"],
        **kw,
    }


def _block(config: dict, group: str) -> dict:
    c = config["surrogate"]
    return c["spiking"] if group == "lif" else c["xor"] if group == "xor" else c["binary"]


def floss_options(config: dict, group: str, k: int) -> dict[str, Any]:
    f = _block(config, group)["flossing"]
    return {
        "k": k,
        "epochs": f["epochs"],
        "steps": f["steps"],
        "transient": f.get("transient"),
        "lr": f["lr"],
        "target": f.get("target", 0.0),
        "qr": config["qr"],
        "checkpoint_every": config["checkpoint_every"],
    }


def spectrum_options(config: dict, group: str) -> dict[str, Any]:
    s = _block(config, group)["spectrum"]
    return {"steps": s["steps"], "transient": s["transient"], "qr": config["qr"]}


def delay_batches(config: dict) -> list[tuple[str, list[int]]]:
    """(mode, delays d) of every S2 training job when `batch_delays` is on: one job per
    flossing mode trains all delays batched (same numbers up to float rounding); [] when
    off or when S2 is not run."""
    c = config.get("surrogate", {})
    if not (config.get("batch_delays", False) and c.get("enabled", False)):
        return []
    return [(mode, sorted(c["xor"]["delays"])) for mode in c["xor"]["modes"]]


def train_options(config: dict, d: int, mode: str) -> dict[str, Any]:
    x = config["surrogate"]["xor"]
    p = x[mode] if mode != "none" else {}
    check = p.get("check", {})
    return {
        "delay": d // 2,  # d' of docs/science.md §1.2
        "steps": x["steps"],
        "epochs": x["epochs"],
        "lr": x["lr"],
        "clip": x["clip"],
        "mode": mode,
        "pre_epochs": p.get("pre_epochs"),
        "every": p.get("every"),
        "floss_epochs": p.get("epochs"),
        "max_episodes": p.get("max_episodes"),
        "tolerance": p.get("tolerance"),
        "check_steps": check.get("steps"),
        "check_transient": check.get("transient"),
        "k": x["k"],
        "floss_steps": x["flossing"]["steps"],
        "floss_lr": x["flossing"]["lr"],
        "spectrum_every": x["spectrum_every"],
        "qr": config["qr"],
        "checkpoint_every": config["checkpoint_every"],
    }


def figure_params(config: dict, figure: str) -> dict[str, Any]:
    """What a figure needs besides its files: sizes for the caption, the plotted settings and
    `choices`, the settings the paper does not fix or this scale changes."""
    c = config["surrogate"]
    b, x, s = c["binary"], c["xor"], c["spiking"]
    out: dict[str, Any] = {"scale": config["scale"], "figure": figure}
    if figure.startswith("S1"):
        out.update(n_neurons=b["n_neurons"], n_networks=b["n_networks"], gain=b["gain"])
        out.update(ks=b["ks"], sharpness=b["sharpness"], epochs=b["flossing"]["epochs"])
        out.update(gains=s1a_gains(config), spectrum_sharpness=b["spectrum_sharpness"])
    elif figure.startswith("S2"):
        out.update(n_neurons=x["n_neurons"], n_networks=x["n_networks"], epochs=x["epochs"])
        out.update(delays=x["delays"], modes=x["modes"], curve_delay=x["curve_delay"])
        out.update(steps=x["steps"], final_window=x["final_window"], k=x["k"])
        out["tolerance"] = x["adaptive"]["tolerance"]
    else:
        out.update(n_neurons=s["n_neurons"], n_networks=s["n_networks"], k=s["k"])
        out.update(epochs=s["flossing"]["epochs"])
        out.update(jacobian_sharpness=s["jacobian_sharpness"])
        out.update(backward_sharpness=s["backward_sharpness"])
    out["reduced"] = reduced(config, figure)
    out["choices"] = choices(config, figure)
    return out


def reduced(config: dict, figure: str) -> str:
    """What this scale reduces for `figure`: surrogate.reduced is one text for every figure or
    one per group (S1, S2, S3), so that a caption carries only its own figure's."""
    text = config["surrogate"].get("reduced", "")
    return text if isinstance(text, str) else text.get(figure[:2], "")


def _flossing_text(f: dict, k: int | list[int]) -> str:
    transient = f" after {f['transient']} transient steps" if "transient" in f else ""
    ks = f"k in {{{', '.join(map(str, k))}}}" if isinstance(k, list) else f"k = {k}"
    return (
        f"{f['epochs']} flossing steps of Tp = {f['steps']}{transient}, Adam lr {f['lr']:g}, {ks}"
    )


def choices(config: dict, figure: str) -> str:
    """The settings a figure depends on that the paper does not fix (or that this scale
    changes), for its caption; the reasons are in docs/surrogate.md."""
    c = config["surrogate"]
    b, x, s = c["binary"], c["xor"], c["spiking"]
    if figure == "S1A_binary_lambda1":
        extra = ", ".join(f"{g:g}" for g in b["compare_gains"])
        also = (
            f"; also drawn at coupling gain {extra} (binary.compare_gains; 1.4 is a "
            "one-parameter fit of the published starting means, not a sourced value)"
            if extra
            else ""
        )
        return (
            f"Choices: coupling gain {b['gain']:g} of J (binary.gain; S1's coupling is not "
            f"stated, the reference README's parameter line has g = 1.0){also}; "
            f"{_flossing_text(b['flossing'], 1)}, batch 1, fresh Bernoulli(1/2) input each "
            "step (S1's epochs, Tp and lr are not stated; Tp 55 and lr 1e-3 are the reference "
            "defaults)."
        )
    if figure == "S1B_binary_spectrum":
        sp = b["spectrum"]
        return (
            f"Choices: surrogate sharpness g = {b['spectrum_sharpness']:g} "
            "(binary.spectrum_sharpness; the figure's gray lambda_1 ~ -0.22 is S1A's g = 0.5 "
            "start, the README caption says g = 1 for B), coupling gain "
            f"{b['gain']:g} (binary.gain, not stated); {_flossing_text(b['flossing'], b['ks'])}; "
            f"spectra from {sp['steps']} no-grad steps after {sp['transient']} transient steps."
        )
    if figure.startswith("S2"):
        p, a = x["periodic"], x["adaptive"]
        return (
            f"Choices: coupling gain {x['gain']:g}, sharpness {x['sharpness']:g} (neither "
            f"stated); training {x['epochs']} epochs, T = {x['steps']}, batch {x['batch']}, "
            f"Adam lr {x['lr']:g}{_unless_reference(x['lr'], 1e-3)}, clip {x['clip']:g}; "
            f"flossing k = {x['k']}, Tp = "
            f"{x['flossing']['steps']}, lr {x['flossing']['lr']:g}; periodic: Ep = "
            f"{p['pre_epochs']}, then Ei = {p['epochs']} steps every Ef = {p['every']} epochs, "
            f"at most Ni = {p['max_episodes']}; adaptive (not defined in the sources): Ep = "
            f"{a['pre_epochs']}, then every {a['every']} epochs {a['epochs']} steps for "
            f"networks with |lambda_1 - target| > {a['tolerance']:g} "
            f"({a['check']['steps']}-step check), at most {a['max_episodes']} per network."
        )
    f = s["flossing"]
    return (
        f"Choices: surrogate sharpness {s['jacobian_sharpness']:g} in the Jacobian and "
        f"{s['backward_sharpness']:g} in the spikes' backward pass (spiking.jacobian_sharpness, "
        "spiking.backward_sharpness; reference script 5 and 10); "
        f"{_flossing_text(f, s['k'])} on (W_in, V) from rest (reference script: 100 flossing "
        "steps of Adam lr 1e-3 on the summed exponents of 500 steps from rest, no transient; "
        f"Adam does not see that scale); coupling gain {s['gain']:g}; reset "
        f"{'kept' if s['reset_in_jacobian'] else 'ignored'} in the Jacobian."
    )


def _unless_reference(value: float, reference: float) -> str:
    return "" if value == reference else f" (reference {reference:g})"


def figure_caption(config: dict, figure: str) -> str:
    """The report caption of a figure: its claim, the sizes used, what the scale reduces and
    the choices it depends on."""
    p = figure_params(config, figure)
    reduced = f" Reduced: {p['reduced']}." if p["reduced"] else ""
    return (
        "Surrogate gradient flossing (docs/science.md §2; Engelken & Abbott 2024), "
        f"figure {figure}. "
        f"{FIGURES[figure]} N = {p['n_neurons']}, {p['n_networks']} networks, {p['scale']} "
        f"scale.{reduced} {p['choices']} The data plotted are in the NetCDF file of the same "
        "name; numbers against docs/science.md §2.3: docs/surrogate.md."
    )
