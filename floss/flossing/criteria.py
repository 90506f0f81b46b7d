"""The measures of the flossing claims (floss/flossing/claims.py): each reads one figure's data
(floss/flossing/figures) and returns a Measurement. NaN in a figure's data means "not
measured" (a diverged network; an unresolved value in data written before the long-term
Jacobian's singular values were computed stably): it never counts towards a pass.

Conventions: differences are paired by network (network m of every condition starts from the
same initial network); values are means over networks and spreads their standard deviation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr

from floss.core.claims import NOT_REPRODUCED, NOT_RUN, Measurement, verdict
from floss.flossing.scaling import fit_exponent

TASKS = ("copy", "xor1")  # the task labels of the training experiment (config: copy, xor)
MODELS = ("gru", "lstm")  # the architectures of F7
# F1: the published criterion itself (§1.5 claim 1: all 10 networks within ±0.1 after ~50
# flossing epochs, ±0.05 after ~80), not widened; the paper's quartile bars lie inside it
F1_TOL = (0.1, 0.05)
SIDES, PAIR = ("before", "after"), ["none", "pre"]  # F7 coordinates, in this order
CHANCE = 0.5  # accuracy of a diverged network on the balanced binary tasks (§1.2)
SUCCESS50 = 0.5  # "largest learnable delay": the largest with >= half the networks successful
N_SE = 2.0  # allowance of a bound check: two standard errors of the mean over networks (the
# per-network slopes scatter; ~95 % of means of a process at the bound fall inside)
# F8: §1.4's O() costs fix only an integer power of N (N^2 k + N k^2: 2 for k = 1, 3 for
# k ∝ N; BPTT 2); ±0.5 is the widest band that still tells neighbouring powers apart. O() is
# asymptotic, so the fit uses the larger half of the N grid (small N: per-step overhead).
POWER_TOL = 0.5


def _sd(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.std(x, ddof=1)) if x.size > 1 else math.nan


def _se(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return _sd(x) / math.sqrt(x.size) if x.size > 1 else 0.0  # one network: no allowance


def _mean(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _max(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else math.nan


def _median(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else math.nan


def _m(value, spread, n, size_ok, sign_ok, direction_only, detail) -> Measurement:
    return Measurement(
        float(value), float(spread), int(n), verdict(size_ok, sign_ok, direction_only), detail
    )


def _unmeasurable(n: int, why: str) -> Measurement:
    return Measurement(math.nan, math.nan, int(n), NOT_REPRODUCED, f"unmeasurable: {why}")


def _not_run(why: str) -> Measurement:
    return Measurement(math.nan, math.nan, 0, NOT_RUN, why)


def _f(x: float) -> str:
    return f"{x:.3g}"


# --- F1: λ1 control ------------------------------------------------------------------------
def lambda_control(tol: float):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        targets = ds["target"].values.astype(float)
        dev = np.abs(ds["lambda1_check"].values.astype(float) - targets[:, None])
        dev0 = np.abs(ds["lambda1"].values[..., 0].astype(float) - targets[:, None])
        nets = dev.shape[1]
        worst = np.where(np.isfinite(dev), dev, np.inf).max(0)  # NaN: not within
        size_ok = bool(np.all(worst <= tol))
        sign_ok = all(_median(d) < _median(d0) for d, d0 in zip(dev, dev0))  # NaN: False
        unmeasured = int((~np.isfinite(worst)).sum())
        per_target = ", ".join(f"{t:g}: {_f(_max(d))}" for t, d in zip(targets, dev))
        detail = (
            f"max |λ1 − target| over networks (long no-grad check after "
            f"{ds.sizes['flossing_epoch']} flossing epochs) by target: {per_target}"
        )
        if unmeasured:
            detail += f"; {unmeasured} networks unmeasured (NaN)"
        return _m(_max(worst), _sd(worst), nets, size_ok, sign_ok, False, detail)

    return measure


# --- F2, F7: flossed exponents near the target, step after k -------------------------------
def _top_k_distance(lam: np.ndarray, k: int, target: float = 0.0) -> np.ndarray:
    """Per network max_{i<=k} |λ_i − target| (NaN where any of them is NaN)."""
    return np.abs(lam[..., :k] - target).max(-1)


def spectrum_near_target(ds: xr.Dataset, params: dict) -> Measurement:
    lam, ks = ds["lyapunov"].values.astype(float), ds["k"].values
    rows, ok = [], []
    for i, k in enumerate(ks[1:], start=1):
        after, before = _top_k_distance(lam[i], k), _top_k_distance(lam[0], k)
        a, b = _mean(after), _mean(before)
        ok.append(bool(a < b))  # NaN compares False
        rows.append((a, k, b, _sd(after)))
    worst = max(rows, key=lambda r: -math.inf if math.isnan(r[0]) else r[0])
    value, spread = worst[0], worst[3]
    detail = "mean max_{i<=k} |λ_i|, before -> after: " + ", ".join(
        f"k={k}: {_f(b)} -> {_f(a)}" for a, k, b, _ in rows
    )
    return _m(value, spread, lam.shape[1], False, all(ok), True, detail)


def spectrum_step(ds: xr.Dataset, params: dict) -> Measurement:
    lam, ks = ds["lyapunov"].values.astype(float), ds["k"].values
    dim = lam.shape[-1]
    rows = []
    for i, k in enumerate(ks[1:], start=1):
        if k < dim:
            after, before = lam[i][:, k - 1] - lam[i][:, k], lam[0][:, k - 1] - lam[0][:, k]
            rows.append((k, _mean(before), _mean(after), _sd(after)))
    if not rows:
        return _unmeasurable(lam.shape[1], f"every k equals the state size {dim}")
    sign_ok = all(a > b for _, b, a, _ in rows)
    k, _, value, spread = min(rows, key=lambda r: math.inf if math.isnan(r[2]) else r[2])
    detail = "mean λ_k − λ_{k+1}, before -> after: " + ", ".join(
        f"k={k}: {_f(b)} -> {_f(a)}" for k, b, a, _ in rows
    )
    return _m(value, spread, lam.shape[1], False, sign_ok, True, detail)


def architecture_spectrum(model: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        name = f"lyapunov_{model}"
        if name not in ds:
            return _not_run(f"model {model} not in this run's architectures")
        lam, k = ds[name], int(params["k"])
        before, after = (_top_k_distance(lam.sel(flossing=c).values, k) for c in SIDES)
        a, b = _mean(after), _mean(before)
        detail = f"{model}: mean max_(i<={k}) |λ_i| before {_f(b)} -> after {_f(a)}"
        return _m(a, _sd(after), after.size, False, bool(a < b), True, detail)

    return measure


# --- F3: gradient at the initial state vs delay --------------------------------------------
def _t0(task: str, delays: np.ndarray) -> np.ndarray:
    return delays * (1 if task == "copy" else 2 ** int(task[3:]))


def _slopes(t0: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Per network slope of log g against t0 (g: delay x network; NaN if < 2 finite points)."""
    out = np.full(g.shape[1], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(g)
    for m in range(g.shape[1]):
        ok = np.isfinite(logs[:, m])
        if ok.sum() >= 2 and np.unique(t0[ok]).size >= 2:
            out[m] = np.polyfit(t0[ok].astype(float), logs[ok, m], 1)[0]
    return out


def gradient(task: str, schedule: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        name = f"grad_norm_x0_{task}"
        if name not in ds or schedule not in ds["schedule"].values:
            return _not_run(f"task {task} / schedule {schedule} not in this run's config")
        if skip := _without(ds, ("none",)):
            return skip
        t0 = _t0(task, ds[f"delay_{task}"].values)
        s = {c: _slopes(t0, ds[name].sel(schedule=c).values) for c in ("none", schedule)}
        nets = ds.sizes["network"]
        if not np.isfinite(s[schedule]).any():
            return _unmeasurable(nets, "fewer than two finite gradient norms per network")
        value, se = _mean(s[schedule]), _se(s[schedule])
        lam = math.nan
        if "lambda1" in ds and "none" in ds["schedule_bound"].values:
            lam = float(ds["lambda1"].sel(schedule_bound="none"))
        if schedule == "none":  # vanishes, at the rate of the bound exp(λ1 t0)
            sign_ok, size_ok = value < 0, bool(value <= lam + N_SE * se)  # NaN λ1: False
            detail = f"slope {_f(value)} ± {_f(se)} (s.e.), bound λ1 = {_f(lam)}"
        else:  # flossing keeps it from vanishing: slower decay, no significant decay
            ref = _mean(s["none"])
            sign_ok, size_ok = bool(value > ref), bool(value >= -N_SE * se)
            detail = f"slope {_f(value)} ± {_f(se)} (s.e.) vs no flossing {_f(ref)}"
        return _m(value, _sd(s[schedule]), nets, size_ok, sign_ok, False, detail)

    return measure


# --- F4: condition number of the long-term Jacobian ----------------------------------------
def condition(rate: bool):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        kap = ds["log_condition_number"].values.astype(float) / np.log(10)  # (cond, net, t)
        t = ds["time"].values.astype(float)
        nets = kap.shape[1]
        if rate:  # per network slope over the times measured in both conditions
            diff, after = np.full(nets, np.nan), np.full(nets, np.nan)
            for m in range(nets):
                ok = np.isfinite(kap[:, m]).all(0)
                if ok.sum() >= 2:
                    b, a = (np.polyfit(t[ok], kap[c, m, ok], 1)[0] for c in (0, 1))
                    diff[m], after[m] = b - a, a
            if not np.isfinite(diff).any():
                return _unmeasurable(nets, "log κ_k NaN at all but one time")
            detail = (
                f"d log10 κ_k/dt: before {_f(_mean(after + diff))}, after {_f(_mean(after))} "
                f"per step ({int(np.isfinite(diff).sum())} of {nets} networks measured)"
            )
            return _m(_mean(diff), _sd(diff), nets, False, _mean(diff) > 0, True, detail)
        both = np.isfinite(kap).all((0, 1)) & (t > 1)
        if not both.any():
            return _unmeasurable(nets, "log κ_k NaN at every t > 1")
        j = int(np.flatnonzero(both)[-1])
        diff = kap[0, :, j] - kap[1, :, j]
        detail = (
            f"t = {t[j]:g}: log10 κ_k before {_f(_mean(kap[0, :, j]))}, after "
            f"{_f(_mean(kap[1, :, j]))}"
        )
        return _m(_mean(diff), _sd(diff), nets, False, _mean(diff) > 0, True, detail)

    return measure


# --- F5, F6: training with flossing schedules ----------------------------------------------
def _without(ds: xr.Dataset, schedules: tuple[str, ...]) -> Measurement | None:
    """`not run` where the run's config lacks a schedule the claim compares."""
    missing = [s for s in schedules if s not in ds["schedule"].values]
    return _not_run(f"schedules {missing} not in this run's config") if missing else None


def _paired(ds: xr.Dataset, name: str, a: str, b: str, reduce) -> np.ndarray:
    """Per network reduce(variable at schedule a) − reduce(at schedule b)."""
    return reduce(ds[name].sel(schedule=a).values) - reduce(ds[name].sel(schedule=b).values)


def success_long(task: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        name = f"success_{task}"
        if name not in ds:
            return _not_run(f"task {task} not in this run's config")
        if skip := _without(ds, ("none", "pre")):
            return skip
        delays = ds[f"delay_{task}"].values
        long = slice(len(delays) // 2, None)  # the longer half of the delay grid
        diff = _paired(ds, name, "pre", "none", lambda s: s[long].mean(0))
        rate = {c: float(ds[name].sel(schedule=c).values[long].mean()) for c in ("none", "pre")}
        detail = (
            f"success rate over delays {delays[long].tolist()}: none {_f(rate['none'])}, "
            f"pre {_f(rate['pre'])}"
        )
        return _m(_mean(diff), _sd(diff), diff.size, False, _mean(diff) > 0, True, detail)

    return measure


def convergence(task: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        name = f"curve_accuracy_{task}"
        if name not in ds:
            return _not_run(f"no learning curves of task {task} in this run")
        if skip := _without(ds, ("none", "pre")):
            return skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN curve: NaN
            diff = _paired(ds, name, "pre", "none", lambda c: np.nanmean(c, -1))
        cd = params.get("curve_delays", {}).get(task.rstrip("0123456789"))
        if not np.isfinite(diff).any():
            return _unmeasurable(diff.size, "learning curves NaN")
        detail = f"d' = {cd}: accuracy averaged over epochs, pre − none {_f(_mean(diff))}"
        return _m(_mean(diff), _sd(diff), diff.size, False, _mean(diff) > 0, True, detail)

    return measure


def largest_delay(success: np.ndarray, delays: np.ndarray) -> int:
    """The largest delay with a success rate >= 50 % (0 if none); success: delay x network."""
    ok = [int(d) for d, r in zip(delays, success.mean(1)) if r >= SUCCESS50]
    return max(ok) if ok else 0


def horizon(task: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        name = f"success_{task}"
        if name not in ds or "pre-during" not in ds["schedule"].values:
            return _not_run(f"task {task} with pre-during flossing not in this run's config")
        if skip := _without(ds, ("pre",)):
            return skip
        delays = ds[f"delay_{task}"].values
        big = {
            c: largest_delay(ds[name].sel(schedule=c).values, delays) for c in ds["schedule"].values
        }
        value = big["pre-during"] - big["pre"]
        detail = "largest delay with >= 50 % success: " + ", ".join(
            f"{c} {d}" for c, d in big.items()
        )
        if big["pre"] == int(delays.max()):
            detail += " (pre already bridges the longest delay of the grid)"
        return _m(value, math.nan, ds.sizes["network"], False, value > 0, True, detail)

    return measure


# --- F7: other architectures, temporal complexity -------------------------------------------
def _chance(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a), CHANCE, a)  # a diverged network is at chance


def architecture_accuracy(model: str):
    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        if model not in ds["model"].values:
            return _not_run(f"model {model} not in this run's architectures")
        acc = _chance(ds["accuracy_model"].sel(model=model, schedule=PAIR).values)
        diff = acc[1] - acc[0]
        detail = f"{model}: mean final accuracy none {_f(acc[0].mean())}, pre {_f(acc[1].mean())}"
        return _m(diff.mean(), _sd(diff), diff.size, False, diff.mean() > 0, True, detail)

    return measure


def orders(ds: xr.Dataset, params: dict) -> Measurement:
    acc = _chance(ds["accuracy_order"].sel(schedule=PAIR).values)  # (schedule, order, network)
    diff = (acc[1] - acc[0]).mean(0)  # per network, averaged over the orders
    detail = "mean accuracy none -> pre by h: " + ", ".join(
        f"{h}: {_f(n)} -> {_f(p)}"
        for h, n, p in zip(ds["order"].values, acc[0].mean(-1), acc[1].mean(-1))
    )
    return _m(diff.mean(), _sd(diff), diff.size, False, diff.mean() > 0, True, detail)


# --- F8: cost exponents ---------------------------------------------------------------------
def exponent(work: str, rule: str | None, expected: float):
    """rule: the k rule of a flossing row ("N": k ∝ N, N/4 stands in); BPTT (rule None) does
    not depend on k and is stored under the grid's first k rule (floss.flossing.scaling)."""

    def measure(ds: xr.Dataset, params: dict) -> Measurement:
        rules = [str(r) for r in ds["k_rule"].values]
        pick = rules[0] if rule is None else rule if rule in rules else None
        if rule == "N" and pick is None:
            pick = next((r for r in rules if r.startswith("N/")), None)
        if work not in ds["work"].values or pick is None:
            return _not_run(f"{work} with k rule {rule} not in this run's grid")
        t = ds["seconds_per_epoch"].sel(work=work, k_rule=pick).sortby("neurons")
        n = t["neurons"].values.astype(float)
        top = slice(len(n) - max(2, math.ceil(len(n) / 2)), None)  # the larger half of N
        m = np.sort(t["networks"].values)
        slopes = [fit_exponent(n[top], t.sel(networks=q).values[top]) for q in m]
        value = slopes[0]  # one network (the smallest M), as the cost in §1.4
        timed = int(np.isfinite(t.sel(networks=m[0]).values[top]).sum())
        if math.isnan(value):
            return _unmeasurable(timed, "fewer than two timed sizes")
        detail = (
            f"slope of log time vs log N over N = {n[top].astype(int).tolist()}, k rule {pick}: "
            + ", ".join(f"M={q}: {_f(s)}" for q, s in zip(m, slopes))
            + f" (expected {expected:g})"
        )
        size_ok = abs(value - expected) <= POWER_TOL
        return _m(value, math.nan, timed, size_ok, value > 0, False, detail)

    return measure
