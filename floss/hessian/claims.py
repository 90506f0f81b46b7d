"""Claims of the Hessian family (figures H1-H4), measured on the figures' data.

[Liu2022] gives no numbers (docs/science.md §3.4): a claim resting on it is direction only.
Fixed rule for every directional claim (fixed with this module, before it measured any run):
the effect must have the published sign AND be significant at one-sided p < ALPHA = 0.05
(Welch's t-test over seeds or networks; a paired t-test for a rise within runs; an F-test for
a ratio of spreads; Pearson's test for a correlation). The right sign with p >= 0.05 is `not
reproduced`, not `direction`: with 2-5 seeds a difference of means has either sign by chance,
so a sign alone does not show the effect; `detail` gives the sign and p, so such a row shows it.

Claims comparing rules use the reference's symmetric feedback (docs/science.md §3.2; H2.c and
H2.e pool every condition of the figure); a figure without such a condition gives `not run`. A
missing variable of a present condition is a layout error (KeyError, see claims.evaluate).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr
from scipy import stats

from floss.core.claims import NOT_REPRODUCED, NOT_RUN, Claim, Measurement
from floss.core.claims import verdict as kernel_verdict

ALPHA = 0.05  # one-sided significance level of every directional claim (see the docstring)
BPTT, THREE = "bptt_symmetric", "three_factor_symmetric"
LATE = 0.25  # "later in training" (§3.4): the last quarter of the evaluation points (the
# first quarter: "early"); a quarter, not one point, as SGD's lambda_max jitters between points
DENSITY_FLOOR = 1e-7  # plot_h3's lower y limit: a peak below it is not visible in H3
SOLVED = 0.9  # H4 "solved": accuracy >= the training experiment's success_threshold (0.9 in
# config/*.yaml); params["success_threshold"] where the figure params give it
RAYLEIGH_TOL = 0.01  # |1 - rayleigh / lambda_max|: see _sign_assumption
PAPER = "docs/science.md §3.4 ([Liu2022] abstract; reference script's expected result)"
FLOSS = "floss extension, no published value (docs/hessian.md H4; docs/science.md §1, §3.4)"


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=float).ravel()
    return a[np.isfinite(a)]


def _msd(a: np.ndarray) -> str:
    sd = np.std(a, ddof=1) if len(a) > 1 else math.nan
    return f"{np.mean(a):.3g} ± {sd:.3g} (n = {len(a)})" if len(a) else "no data"


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """One-sided Welch p-value for mean(a) > mean(b), and the standard error of the difference."""
    if len(a) < 2 or len(b) < 2 or np.ptp(a) == np.ptp(b) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings():  # scipy warns where one group is constant; Welch is valid
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)
    return p, math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))


def _direction(value, spread, n, p, detail) -> Measurement:
    """Directional verdict: value > 0 (the published sign) and significant (p < ALPHA)."""
    ok = bool(value > 0 and np.isfinite(p) and p < ALPHA)
    v = kernel_verdict(size_ok=ok, sign_ok=ok, direction_only=True)
    return Measurement(float(value), float(spread), int(n), v, f"{detail}; p = {p:.3g}")


def _greater(a, b, names: tuple[str, str]) -> Measurement:
    """Directional claim mean(a) > mean(b): value mean(a) - mean(b), spread its standard error."""
    a, b = _finite(a), _finite(b)
    if not len(a) or not len(b):
        return Measurement(math.nan, math.nan, 0, NOT_REPRODUCED, "no finite values")
    p, se = _welch(a, b)
    detail = f"{names[0]} {_msd(a)} vs {names[1]} {_msd(b)}; Welch one-sided (needs p < {ALPHA})"
    return _direction(np.mean(a) - np.mean(b), se, len(a) + len(b), p, detail)


def _missing(data: xr.Dataset, marker: str, keys=(BPTT, THREE)) -> Measurement | None:
    absent = [k for k in keys if f"{marker}_{k}" not in data]
    if absent:
        return Measurement(math.nan, math.nan, 0, NOT_RUN, f"figure has no condition {absent}")
    return None


# --- H1: lambda_max during training ------------------------------------------------------------
def _quarters(data: xr.Dataset, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per network: mean lambda_max over the first and over the last quarter of the points."""
    lam = np.asarray(data[f"lambda_max_{key}"].values, dtype=float)  # (network, point)
    q = max(1, int(lam.shape[1] * LATE))
    return np.nanmean(lam[:, :q], 1), np.nanmean(lam[:, -q:], 1)


def h1_sharper(data: xr.Dataset, params: dict) -> Measurement:
    if (m := _missing(data, "iteration")) is not None:
        return m
    return _greater(_quarters(data, THREE)[1], _quarters(data, BPTT)[1], ("three-factor", "BPTT"))


def h1_rises(key: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        if (m := _missing(data, "iteration", (key,))) is not None:
            return m
        early, late = _quarters(data, key)
        rise = _finite(late - early)
        if len(rise) < 2:
            return Measurement(math.nan, math.nan, len(rise), NOT_REPRODUCED, "< 2 networks")
        p = float(stats.ttest_1samp(rise, 0.0, alternative="greater").pvalue)
        detail = (
            f"first quarter {_msd(early)}, last quarter {_msd(late)}; paired one-sided t-test "
            f"(needs p < {ALPHA})"
        )
        return _direction(np.mean(rise), np.std(rise, ddof=1), len(rise), p, detail)

    return measure


# --- H2: generalization ------------------------------------------------------------------------
def h2_compare(var: str, three_higher: bool):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        if (m := _missing(data, "final_lambda_max")) is not None:
            return m
        a, b = data[f"{var}_{THREE}"].values, data[f"{var}_{BPTT}"].values
        if three_higher:
            return _greater(a, b, ("three-factor", "BPTT"))
        return _greater(b, a, ("BPTT", "three-factor"))

    return measure


def h2_variability(data: xr.Dataset, params: dict) -> Measurement:
    if (m := _missing(data, "final_lambda_max")) is not None:
        return m
    a, b = (_finite(data[f"generalization_gap_{k}"].values) for k in (THREE, BPTT))
    if len(a) < 2 or len(b) < 2:
        return Measurement(math.nan, math.nan, len(a) + len(b), NOT_REPRODUCED, "< 2 per rule")
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    ratio = math.sqrt(va / vb) if vb > 0 else math.inf
    p = float(stats.f.sf(va / vb, len(a) - 1, len(b) - 1)) if vb > 0 else math.nan
    ok = bool(ratio > 1 and np.isfinite(p) and p < ALPHA)
    detail = (
        f"s.d. three-factor {math.sqrt(va):.3g} (n = {len(a)}), BPTT {math.sqrt(vb):.3g} "
        f"(n = {len(b)}); one-sided F-test (needs p < {ALPHA}); p = {p:.3g}"
    )
    v = kernel_verdict(size_ok=ok, sign_ok=ok, direction_only=True)
    return Measurement(ratio, math.nan, len(a) + len(b), v, detail)


def _pooled(data: xr.Dataset, var: str) -> tuple[np.ndarray, list[str]]:
    keys = [k[17:] for k in data.data_vars if k.startswith("final_lambda_max_")]
    values = [np.asarray(data[f"{var}_{k}"].values, float) for k in keys]
    return (np.concatenate(values) if values else np.zeros(0)), keys


def h2_correlation(data: xr.Dataset, params: dict) -> Measurement:
    lam, keys = _pooled(data, "final_lambda_max")
    gap, _ = _pooled(data, "generalization_gap")
    if not keys:
        return Measurement(math.nan, math.nan, 0, NOT_RUN, "figure has no condition")
    ok = np.isfinite(lam) & np.isfinite(gap)
    lam, gap = lam[ok], gap[ok]
    if len(lam) < 3 or np.ptp(lam) == 0 or np.ptp(gap) == 0:
        return Measurement(math.nan, math.nan, len(lam), NOT_REPRODUCED, "< 3 networks or constant")
    res = stats.pearsonr(lam, gap, alternative="greater")
    detail = f"Pearson r over {len(lam)} networks of {keys}; one-sided test (needs p < {ALPHA})"
    return _direction(float(res.statistic), math.nan, len(lam), float(res.pvalue), detail)


def _sign_assumption(lam, ray, where: str) -> Measurement:
    """The reference's |lambda| = ||Hv|| is the top eigenvalue only where the dominant
    eigenvalue is positive (docs/science.md §3.3): reproduced where the signed Rayleigh quotient
    agrees with ||Hv|| to RAYLEIGH_TOL for every network (1 %: power iteration stops at a change
    of 1e-6 absolute, so a converged positive dominant eigenvalue agrees far closer; a larger
    gap means a negative or near-tied |lambda_min|, or no convergence), direction where every
    quotient is positive but some disagree, not reproduced where one is <= 0."""
    lam, ray = np.asarray(lam, float), np.asarray(ray, float)
    ok = np.isfinite(lam) & np.isfinite(ray) & (lam > 0)
    ratio = ray[ok] / lam[ok]
    if not len(ratio):
        return Measurement(math.nan, math.nan, 0, NOT_REPRODUCED, "no finite lambda_max > 0")
    worst = float(np.min(ratio))
    sign_ok = bool(np.all(ratio > 0))
    size_ok = bool(np.all(np.abs(1 - ratio) <= RAYLEIGH_TOL))
    detail = (
        f"rayleigh / lambda_max over {len(ratio)} networks of {where}: min {worst:.4g}, "
        f"max {np.max(ratio):.4g}; needs all > 0 (sign) and within {RAYLEIGH_TOL:g} of 1"
    )
    return Measurement(worst, math.nan, len(ratio), kernel_verdict(size_ok, sign_ok), detail)


def h2_sign(data: xr.Dataset, params: dict) -> Measurement:
    lam, keys = _pooled(data, "final_lambda_max")
    if not keys:
        return Measurement(math.nan, math.nan, 0, NOT_RUN, "figure has no condition")
    ray, _ = _pooled(data, "final_lambda_rayleigh")
    return _sign_assumption(lam, ray, str(keys))


# --- H3: spectral density ----------------------------------------------------------------------
def right_edge(data: xr.Dataset, key: str) -> np.ndarray:
    """Per network: the eigenvalue of the rightmost local maximum of the plotted density that
    is visible in H3 (>= DENSITY_FLOOR): the top SLQ Ritz value as the figure shows it. A top
    eigenvalue within ~2 sigma of the bulk is not resolved and reads as the bulk's peak."""
    grid = np.asarray(data["eigenvalue"].values, float)
    dens = np.asarray(data[f"density_{key}"].values, float)  # (network, eigenvalue)
    mid = dens[:, 1:-1]
    peak = (mid > dens[:, :-2]) & (mid >= dens[:, 2:]) & (mid >= DENSITY_FLOOR)
    out = np.full(dens.shape[0], np.nan)
    for i, row in enumerate(peak):
        idx = np.flatnonzero(row)
        if idx.size:
            out[i] = grid[idx[-1] + 1]
    return out


def h3_edge(data: xr.Dataset, params: dict) -> Measurement:
    if (m := _missing(data, "density")) is not None:
        return m
    return _greater(right_edge(data, THREE), right_edge(data, BPTT), ("three-factor", "BPTT"))


# --- H4: curvature of flossed vs unflossed networks (floss's own question) -------------------
def _solved(data: xr.Dataset, params: dict, var: str, log: bool):
    """Networks that solve the task (accuracy >= threshold), per delay where both schedules have
    one; values (ln lambda_max or the trace) centred on the midpoint of the two schedule means
    of their delay, so that the delay's own effect on curvature cancels."""
    thr = float(params.get("success_threshold", SOLVED))
    groups, used = ([], []), []
    for d in data["delay"].values:
        vals = []
        for s in ("none", "pre"):
            x = np.asarray(data[var].sel(schedule=s, delay=d).values, float)
            acc = np.asarray(data["accuracy"].sel(schedule=s, delay=d).values, float)
            keep = np.isfinite(x) & (acc >= thr) & ((x > 0) if log else True)
            vals.append(np.log(x[keep]) if log else x[keep])
        if all(len(v) for v in vals):
            mid = (np.mean(vals[0]) + np.mean(vals[1])) / 2
            for g, v in zip(groups, vals):
                g.extend(v - mid)
            used.append(int(d))
    return np.asarray(groups[0]), np.asarray(groups[1]), used, thr


def h4_flatter(var: str, log: bool):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        if not {"none", "pre"} <= {str(s) for s in data["schedule"].values}:
            return Measurement(math.nan, math.nan, 0, NOT_RUN, "figure lacks schedule none or pre")
        none, pre, used, thr = _solved(data, params, var, log)
        if len(none) < 2 or len(pre) < 2:
            why = f"< 2 networks per schedule solve (accuracy >= {thr:g}) at shared delays"
            return Measurement(math.nan, math.nan, len(none) + len(pre), NOT_RUN, why)
        p, se = _welch(none, pre)
        detail = (
            f"delays {used}: {len(none)} unflossed, {len(pre)} preflossed solving networks; "
            f"Welch one-sided on delay-centred values (needs p < {ALPHA})"
        )
        value = float(np.mean(none) - np.mean(pre))
        return _direction(value, se, len(none) + len(pre), p, detail)

    return measure


def h4_sign(data: xr.Dataset, params: dict) -> Measurement:
    return _sign_assumption(data["lambda_max"].values, data["lambda_rayleigh"].values, "H4")


H1, H2 = "H1_curvature_training", "H2_generalization"
H3, H4 = "H3_spectral_density", "H4_flossing_curvature"
SIG = f"significant at one-sided p < {ALPHA}; right sign without significance: not reproduced"
WELCH = f"Welch's t-test over seeds, {SIG}"

CLAIMS: list[Claim] = [
    Claim(
        "H1.a",
        H1,
        "The three-factor rule ends in sharper regions than BPTT: higher leading Hessian "
        "eigenvalue later in training.",
        "lambda_max (w.r.t. the Hessian parameters) averaged over the last quarter of the "
        "evaluation points, three-factor minus BPTT (spread: standard error of the difference)",
        "direction only: lambda_1(three-factor) > lambda_1(BPTT) later in training",
        PAPER + "; docs/science.md §3.3 (script docstring)",
        f"direction if the mean difference > 0 and {WELCH}; never reproduced (no number)",
        h1_sharper,
    ),
    *(
        Claim(
            f"H1.{tag}",
            H1,
            f"lambda_max rises during training under {name}.",
            f"{name}: per seed, mean lambda_max over the last quarter minus over the first "
            "quarter of the evaluation points (spread: s.d. over seeds)",
            "direction only: lambda_1 rises during training under both rules",
            PAPER,
            f"direction if the mean rise > 0 and a paired t-test over seeds is {SIG}",
            h1_rises(key),
        )
        for tag, name, key in (("b", "BPTT", BPTT), ("c", "the three-factor rule", THREE))
    ),
    Claim(
        "H2.a",
        H2,
        "The three-factor rule generalizes worse than BPTT: larger train - test gap.",
        "final train - test accuracy gap, three-factor minus BPTT (spread: standard error)",
        "direction only: worse generalization under bio-plausible rules",
        PAPER + "; gap as the probe of the claim: docs/science.md §3.5",
        f"direction if the mean difference > 0 and {WELCH}",
        h2_compare("generalization_gap", three_higher=True),
    ),
    Claim(
        "H2.b",
        H2,
        "Generalization under the three-factor rule is more variable than under BPTT.",
        "s.d. over seeds of the train - test gap, three-factor / BPTT",
        "direction only: more variable generalization under bio-plausible rules",
        PAPER,
        f"direction if the ratio > 1 and a one-sided F-test is {SIG}",
        h2_variability,
    ),
    Claim(
        "H2.c",
        H2,
        "Generalization correlates significantly with curvature: sharper minima, larger gap.",
        "Pearson r of final lambda_max and train - test gap over all networks of the figure",
        "direction only: a significant correlation of generalization with lambda_max",
        PAPER,
        f"direction if r > 0 and {SIG} (Pearson's test); 'significantly' is the paper's word",
        h2_correlation,
    ),
    Claim(
        "H2.d",
        H2,
        "The three-factor rule reaches lower test accuracy than BPTT (worse generalization "
        "read as test performance; it also reflects fit).",
        "final test accuracy, BPTT minus three-factor (spread: standard error)",
        "direction only: worse generalization under bio-plausible rules",
        PAPER,
        f"direction if the mean difference > 0 and {WELCH}",
        h2_compare("test_accuracy", three_higher=False),
    ),
    Claim(
        "H2.e",
        H2,
        "The reference's power iteration (lambda = ||Hv||, sign lost) measures the top "
        "eigenvalue: at the final networks the dominant eigenvalue is positive.",
        "min over networks of signed Rayleigh quotient / lambda_max",
        "criterion: 'at a minimum the top eigenvalue is in practice positive'",
        "docs/science.md §3.3 (reference power iteration); floss stores the Rayleigh quotient",
        f"reproduced if every ratio is within {RAYLEIGH_TOL:g} of 1 (1 %: far above the "
        "solver's 1e-6 tolerance); direction if all > 0 only; not reproduced if one is <= 0",
        h2_sign,
    ),
    Claim(
        "H3.a",
        H3,
        "The spectrum of the final Hessian reaches further right under the three-factor rule "
        "(the curvature claim as seen in the SLQ density; the paper shows no density).",
        "eigenvalue of the rightmost visible peak (>= 1e-7) of each network's SLQ density, "
        "three-factor minus BPTT (spread: standard error)",
        "direction only (no published density): lambda_1(three-factor) > lambda_1(BPTT)",
        PAPER + "; SLQ density is floss's addition (docs/hessian.md)",
        f"direction if the mean difference > 0 and {WELCH}",
        h3_edge,
    ),
    Claim(
        "H4.a",
        H4,
        "floss's hypothesis (not a published claim): by analogy with [Liu2022] (better "
        "temporal credit assignment, flatter minima), preflossed networks that solve the task "
        "sit in flatter minima w.r.t. J than unflossed ones that solve it.",
        "ln lambda_max, no flossing minus preflossing, over networks with accuracy >= 0.9 at "
        "delays where both schedules have one, centred per delay (spread: standard error)",
        "none (hypothesis): ln lambda_max(none) - ln lambda_max(pre) > 0",
        FLOSS,
        f"direction if > 0 and Welch's t-test on delay-centred ln lambda_max is {SIG}; "
        "not run where < 2 solving networks per schedule",
        h4_flatter("lambda_max", log=True),
    ),
    Claim(
        "H4.b",
        H4,
        "floss's hypothesis (not a published claim): the same, for the Hessian trace "
        "(average curvature) instead of the top eigenvalue.",
        "Hutchinson trace, no flossing minus preflossing, solving networks as in H4.a "
        "(spread: standard error)",
        "none (hypothesis): trace(none) - trace(pre) > 0",
        FLOSS,
        f"direction if > 0 and Welch's t-test on delay-centred traces is {SIG}; not run where "
        "< 2 solving networks per schedule",
        h4_flatter("trace", log=False),
    ),
    Claim(
        "H4.c",
        H4,
        "The reference's sign assumption carried over to the flossing networks: lambda_max "
        "(= ||Hv||) of every network is its top, positive, eigenvalue.",
        "min over networks of signed Rayleigh quotient / lambda_max",
        "criterion: 'at a minimum the top eigenvalue is in practice positive'",
        "docs/science.md §3.3 (reference power iteration), applied by floss to H4",
        f"as H2.e: reproduced within {RAYLEIGH_TOL:g} of 1, direction if all > 0 only",
        h4_sign,
    ),
]
