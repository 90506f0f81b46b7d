"""The surrogate claims (floss/surrogate/claims.py): each criterion on hand-built figure data
whose verdict is known, and every measure on figure data rendered from synthetic stage outputs."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from figure_inputs import surrogate_stage_outputs

from floss.core import io
from floss.core.claims import DIRECTION, NOT_REPRODUCED, NOT_RUN, REPRODUCED, VERDICTS, evaluate
from floss.core.figures import render
from floss.surrogate import figures, plan
from floss.surrogate.claims import CLAIMS

ROOT = Path(__file__).resolve().parents[2]
R, D, NR, NOT = REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN
BY_ID = {c.id: c for c in CLAIMS}
SPREAD = np.array([-0.001, 0.0, 0.001])  # three networks around a mean


# --- figure data in the layouts of floss/surrogate/figures.py ----------------------------------
def _ramp(start, epoch, epochs=300):
    """A mean lambda_1 curve from `start` that is >= -0.02 first at `epoch`."""
    e = np.arange(1, epochs + 1)
    return np.where(e < epoch, start + (-0.019 - start) * (e - 1) / (epoch - 1), -0.019)


def s1a(curves: dict, other: dict | None = None, other_gain=1.4) -> xr.Dataset:
    """S1A data: `curves` (sharpness -> mean curve) at the reference coupling gain 1 and, if
    given, `other` at gain `other_gain` (same sharpness values)."""
    gs = sorted(curves)
    panels = [curves] + ([other] if other else [])
    lam = np.stack([np.stack([c[g][None, :] + SPREAD[:, None] for g in gs]) for c in panels])
    gains = [1.0] + ([other_gain] if other else [])
    return xr.Dataset(
        {"lambda1": (("gain", "sharpness", "network", "flossing_epoch"), lam)},
        coords={"gain": gains, "sharpness": gs, "flossing_epoch": np.arange(1, lam.shape[-1] + 1)},
        attrs={"reference_gain": 1.0},
    )


PAPER_S1A = {0.5: _ramp(-0.22, 6), 1.0: _ramp(-0.49, 101)}
N = 40
BEFORE = np.linspace(-0.3, -2.0, N)


def _after(k, step=None, band=0.02, tail=-2.3):
    first = np.linspace(band, -band, k)
    rest = np.linspace(-0.5 if step is None else step, tail, N - k)
    return np.concatenate([first, rest])


def s1b(after: dict, before=BEFORE) -> xr.Dataset:
    ks = sorted(after)
    net = lambda s: s[None, :] + SPREAD[:, None]  # noqa: E731
    return xr.Dataset(
        {
            "lyapunov_before": (("network", "index"), net(before)),
            "lyapunov_after": (("k", "network", "index"), np.stack([net(after[k]) for k in ks])),
        },
        coords={"k": ks, "index": np.arange(1, N + 1)},
    )


PAPER_S1B = {1: _after(1), 16: _after(16, -0.18), 32: _after(32, -0.33)}
MODES = ["none", "periodic", "adaptive"]
S2_PARAMS = {"final_window": 2, "n_networks": 9}
ADAPTIVE = np.array([0.90, 0.92, 0.93, 0.94, 0.955, 0.96, 0.97, 0.98, 0.99])  # 5 > 0.95
SIX_ABOVE = np.where(ADAPTIVE == 0.94, 0.951, ADAPTIVE)  # same median, 6 > 0.95


def s2_curves(final: dict, grad: dict | None = None, delay=18, epochs=10) -> xr.Dataset:
    """Curves whose last two epochs are the per-network final accuracies `final[mode]`."""
    modes = list(final)
    acc = np.stack([np.repeat(np.asarray(final[m], float)[:, None], epochs, 1) for m in modes])
    acc[:, :, 0] = 0.5
    grad = grad or {m: 1e-2 for m in modes}
    g = np.stack([np.broadcast_to(np.asarray(grad[m], float), acc.shape[1:]) for m in modes])
    return xr.Dataset(
        {
            "accuracy": (("mode", "network", "epoch"), acc),
            "grad_norm_h0": (("mode", "network", "epoch"), g),
        },
        coords={"mode": modes, "epoch": np.arange(1, epochs + 1)},
        attrs={"delay": delay},
    )


PAPER_CURVES = {"none": np.full(9, 0.5), "periodic": ADAPTIVE, "adaptive": ADAPTIVE}
PAPER_GRAD = {"none": 2e-10, "periodic": 1e-2, "adaptive": 1e-2}
DELAYS = [10, 14, 18, 22, 26]
ACC_NONE = [1.0, 0.998, 0.527, 0.528, 0.528]
ACC_FLOSS = [0.9995, 0.9995, 0.987, 0.763, 0.643]
GRAD_NONE = [5e-6, 5e-6, 2e-10, 4e-11, 5e-12]


def s2_delays(acc: dict, grad: dict, delays=DELAYS) -> xr.Dataset:
    modes = list(acc)
    a = np.stack([np.asarray(acc[m], float)[:, None] + SPREAD[None, :] / 10 for m in modes])
    g = np.stack([np.asarray(grad[m], float)[:, None] * (1 + SPREAD[None, :]) for m in modes])
    return xr.Dataset(
        {
            "final_accuracy": (("mode", "delay", "network"), a),
            "mean_grad_norm_h0": (("mode", "delay", "network"), g),
        },
        coords={"mode": modes, "delay": delays},
    )


PAPER_ACC = {"none": ACC_NONE, "periodic": ACC_FLOSS, "adaptive": ACC_FLOSS}
PAPER_GRADS = {"none": GRAD_NONE, "periodic": [1e-2] * 5, "adaptive": [1e-3] * 5}


def s3(before_scale=1.0, after_scale=0.5, start=0.1, end=0.02) -> xr.Dataset:
    spec = np.linspace(0.05, -0.3, 12)[None, :] + SPREAD[:, None]
    window = np.linspace(start, end, 20)[None, :] * (1 + SPREAD[:, None])
    return xr.Dataset(
        {
            "lyapunov_before": (("network", "index"), before_scale * spec),
            "lyapunov_after": (("network", "index"), after_scale * spec),
            "lambda1": (("network", "flossing_epoch"), window / 2),
            "lambda_k": (("network", "flossing_epoch"), -window),
        },
        coords={"index": np.arange(1, 13), "flossing_epoch": np.arange(1, 21)},
    )


def _with(base: dict, **edit) -> dict:
    return {**base, **edit}


# --- every claim on data with a known verdict -------------------------------------------------
CASES = [
    # S1A: starting means and epochs to -0.02
    ("S1A.a", s1a(PAPER_S1A), {}, R),
    ("S1A.b", s1a(PAPER_S1A), {}, R),
    ("S1A.c", s1a(PAPER_S1A), {}, R),
    ("S1A.d", s1a(PAPER_S1A), {}, R),
    ("S1A.a", s1a({**PAPER_S1A, 0.5: _ramp(-0.30, 6)}), {}, D),
    ("S1A.a", s1a({0.5: _ramp(-0.22, 6) + 0.3}), {}, NR),
    ("S1A.b", s1a({0.5: _ramp(-0.22, 6), 1.0: _ramp(-0.15, 101)}), {}, NR),  # above g = 0.5
    ("S1A.b", s1a({1.0: _ramp(-0.40, 101)}), {}, D),
    ("S1A.d", s1a({0.5: _ramp(-0.22, 6), 1.0: _ramp(-0.49, 50)}), {}, D),
    ("S1A.d", s1a({0.5: _ramp(-0.22, 6), 1.0: np.full(300, -0.1)}), {}, NR),  # never
    ("S1A.d", s1a({0.5: _ramp(-0.22, 6), 1.0: _ramp(-0.49, 4)}), {}, NR),  # faster than 0.5
    ("S1A.c", s1a({0.5: _ramp(-0.22, 12)}), {}, D),
    ("S1A.c", s1a({0.5: np.full(300, -0.1)}), {}, NR),
    ("S1A.c", s1a({1.0: PAPER_S1A[1.0]}), {}, NOT),  # no g = 0.5
    ("S1A.d", s1a({1.0: PAPER_S1A[1.0][:50]}), {}, NOT),  # too few epochs
    # measured at the reference gain only: a matching gain-1.4 panel does not count
    ("S1A.a", s1a({0.5: _ramp(-0.46, 23), 1.0: _ramp(-0.72, 400)}, PAPER_S1A), {}, D),
    ("S1A.b", s1a({0.5: _ramp(-0.46, 23), 1.0: _ramp(-0.72, 400)}, PAPER_S1A), {}, D),
    ("S1A.c", s1a({0.5: _ramp(-0.46, 23)}, {0.5: _ramp(-0.22, 6)}), {}, D),
    ("S1A.b", s1a(PAPER_S1A, {0.5: _ramp(-0.1, 6), 1.0: _ramp(-0.2, 101)}), {}, R),
    # S1B: the flossed band, the step, the tail
    *[(f"S1B.{x}", s1b(PAPER_S1B), {}, R) for x in "abcde"],
    ("S1B.f", s1b(PAPER_S1B), {}, D),  # direction only
    ("S1B.b", s1b({**PAPER_S1B, 16: _after(16, -0.18, band=0.1)}), {}, D),
    ("S1B.b", s1b({16: 1.1 * BEFORE}), {}, NR),
    ("S1B.c", s1b({32: 1.1 * BEFORE}), {}, NR),
    ("S1B.a", s1b({1: np.concatenate([[0.5], BEFORE[1:]])}), {}, NR),  # |lambda_1| grew
    ("S1B.d", s1b({16: _after(16, -0.25)}), {}, D),
    ("S1B.d", s1b({16: _after(16, -0.03)}), {}, NR),  # no step
    ("S1B.e", s1b({32: _after(32, -0.33 + 0.004)}), {}, R),
    ("S1B.e", s1b({32: _after(32, -0.03)}), {}, NR),
    ("S1B.e", s1b({1: _after(1)}), {}, NOT),
    ("S1B.f", s1b({1: _after(1), 32: _after(32, -0.33, tail=-1.5)}), {}, NR),  # tail rose
    # S2A: learned with flossing (chance 0.5 = not learned), none at chance
    ("S2A.a", s2_curves(PAPER_CURVES), S2_PARAMS, R),
    ("S2A.b", s2_curves(_with(PAPER_CURVES, periodic=np.full(9, 0.8))), S2_PARAMS, D),
    ("S2A.b", s2_curves(_with(PAPER_CURVES, periodic=np.full(9, 0.5))), S2_PARAMS, NR),
    ("S2A.b", s2_curves(_with(PAPER_CURVES, periodic=np.full(9, 0.55))), S2_PARAMS, NR),
    ("S2A.a", s2_curves(_with(PAPER_CURVES, adaptive=SIX_ABOVE)), S2_PARAMS, D),  # 6/9 > 95 %
    ("S2A.a", s2_curves(_with(PAPER_CURVES, adaptive=np.full(9, 0.5))), S2_PARAMS, NR),
    ("S2A.a", s2_curves(PAPER_CURVES, delay=10), S2_PARAMS, NOT),
    ("S2A.c", s2_curves(PAPER_CURVES), S2_PARAMS, R),
    ("S2A.c", s2_curves(_with(PAPER_CURVES, none=[0.9] * 3 + [0.5] * 6)), S2_PARAMS, D),
    ("S2A.c", s2_curves(_with(PAPER_CURVES, none=[0.9] * 6 + [0.5] * 3)), S2_PARAMS, NR),
    # S2C: gradient levels during training
    ("S2C.a", s2_curves(PAPER_CURVES, PAPER_GRAD), S2_PARAMS, R),
    ("S2C.a", s2_curves(PAPER_CURVES, _with(PAPER_GRAD, none=1e-6)), S2_PARAMS, D),
    ("S2C.a", s2_curves(PAPER_CURVES, _with(PAPER_GRAD, adaptive=1e-11)), S2_PARAMS, NR),
    ("S2C.a", s2_curves(PAPER_CURVES, PAPER_GRAD, delay=4), S2_PARAMS, NOT),
    ("S2C.b", s2_curves(PAPER_CURVES, PAPER_GRAD), S2_PARAMS, R),
    ("S2C.c", s2_curves(PAPER_CURVES, PAPER_GRAD), S2_PARAMS, R),
    ("S2C.c", s2_curves(PAPER_CURVES, _with(PAPER_GRAD, periodic=1e-7)), S2_PARAMS, D),
    ("S2C.b", s2_curves(PAPER_CURVES, _with(PAPER_GRAD, adaptive=1e-11)), S2_PARAMS, NR),
    ("S2C.c", s2_curves(PAPER_CURVES, _with(PAPER_GRAD, periodic=1e-12)), S2_PARAMS, NR),
    # S2B: accuracy against delay
    *[(f"S2B.{x}", s2_delays(PAPER_ACC, PAPER_GRADS), {}, R) for x in "abcdef"],
    ("S2B.a", s2_delays(_with(PAPER_ACC, none=[0.9, 1.0, 0.5, 0.5, 0.5]), PAPER_GRADS), {}, D),
    ("S2B.a", s2_delays(_with(PAPER_ACC, none=[0.5] * 5), PAPER_GRADS), {}, NR),
    ("S2B.b", s2_delays(_with(PAPER_ACC, none=[1, 1, 0.8, 0.5, 0.5]), PAPER_GRADS), {}, D),
    ("S2B.b", s2_delays(_with(PAPER_ACC, none=[1, 1, 0.5, 0.5, 0.8]), PAPER_GRADS), {}, NR),
    ("S2B.b", s2_delays(PAPER_ACC, PAPER_GRADS, delays=[4, 6, 8, 12, 16]), {}, NOT),
    ("S2B.c", s2_delays(_with(PAPER_ACC, adaptive=[0.5] * 5), PAPER_GRADS), {}, NR),
    ("S2B.c", s2_delays(_with(PAPER_ACC, adaptive=[1, 1, 0.9, 0.7, 0.6]), PAPER_GRADS), {}, D),
    ("S2B.d", s2_delays(_with(PAPER_ACC, periodic=[1, 1, 0.5, 0.5, 0.5]), PAPER_GRADS), {}, NR),
    ("S2B.e", s2_delays(_with(PAPER_ACC, adaptive=[1.0] * 5), PAPER_GRADS), {}, D),
    ("S2B.e", s2_delays(_with(PAPER_ACC, adaptive=[0.5] * 5), PAPER_GRADS), {}, NR),
    ("S2B.f", s2_delays(_with(PAPER_ACC, periodic=[1, 1, 0.99, 0.76, 0.5]), PAPER_GRADS), {}, NR),
    # S2D: gradient against delay
    *[(f"S2D.{x}", s2_delays(PAPER_ACC, PAPER_GRADS), {}, R) for x in "abc"],
    (
        "S2D.a",
        s2_delays(PAPER_ACC, _with(PAPER_GRADS, none=[1e-6, 1e-6, 1e-9, 1e-10, 1e-11])),
        {},
        D,
    ),
    ("S2D.a", s2_delays(PAPER_ACC, _with(PAPER_GRADS, none=[1e-7] * 5)), {}, NR),
    ("S2D.b", s2_delays(PAPER_ACC, _with(PAPER_GRADS, adaptive=[1e-5] * 5)), {}, D),
    ("S2D.b", s2_delays(PAPER_ACC, _with(PAPER_GRADS, adaptive=[1e-12] * 5)), {}, NR),
    ("S2D.c", s2_delays(PAPER_ACC, _with(PAPER_GRADS, periodic=[1e-12] * 5)), {}, NR),
    ("S2D.c", s2_delays({"none": [0.5]}, {"none": [1e-3]}, delays=[18]), {}, NOT),
    # S3: direction only
    ("S3.a", s3(), {"k": 4}, D),
    ("S3.a", s3(after_scale=1.5), {"k": 4}, NR),
    ("S3.b", s3(), {"k": 4}, D),
    ("S3.b", s3(start=0.02, end=0.1), {"k": 4}, NR),
]


@pytest.mark.parametrize("cid, data, params, expected", CASES, ids=[c[0] for c in CASES])
def test_claim_verdict_on_known_data(cid, data, params, expected):
    m = BY_ID[cid].measure(data, dict(params))
    assert m.verdict == expected, m.detail
    assert m.verdict == NOT_RUN or (math.isfinite(m.value) and m.n > 0)


def test_every_claim_and_verdict_is_tested():
    tested = {c[0] for c in CASES}
    assert tested == set(BY_ID)
    assert {c[3] for c in CASES} >= {REPRODUCED, DIRECTION, NOT_REPRODUCED}
    for cid in BY_ID:  # every claim also has a case that fails
        assert any(c[0] == cid and c[3] == NOT_REPRODUCED for c in CASES), cid


def test_claims_cover_the_family_figures_and_cite_the_science():
    assert len(BY_ID) == len(CLAIMS)
    assert {c.figure for c in CLAIMS} == set(plan.FIGURES)
    for c in CLAIMS:
        assert c.source.startswith("docs/science.md §2"), c.id
        assert c.id.split(".")[0] == c.figure.split("_")[0], c.id
        assert all(getattr(c, f) for f in ("claim", "quantity", "published", "criterion"))


def test_chance_accuracy_is_never_learned():
    """An accuracy of 0.5 (chance) never counts as learned, even above a lower no-flossing."""
    data = s2_delays(
        {"none": [0.49] * 5, "adaptive": [0.5] * 5, "periodic": [0.5] * 5}, PAPER_GRADS
    )
    for cid in ("S2B.a", "S2B.c", "S2B.d", "S2B.e", "S2B.f"):
        assert BY_ID[cid].measure(data, {}).verdict == NOT_REPRODUCED, cid
    assert BY_ID["S2B.b"].measure(data, {}).verdict == REPRODUCED  # published: chance


# --- every measure on figure data rendered from synthetic stage outputs ------------------------
def test_every_measure_runs_on_rendered_figure_data(tmp_path):
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    inputs = surrogate_stage_outputs(cfg, np.random.default_rng(0))
    data, params = {}, {}
    for fig in plan.FIGURES:
        p = plan.figure_params(cfg, fig)
        p.pop("figure")
        render(figures.FIGURES, fig, inputs[fig], p, tmp_path / fig)
        data[fig] = io.read(tmp_path / f"{fig}.nc")
        config = json.loads(data[fig].attrs["floss_config"])
        params[fig] = {k: v for k, v in config.items() if k != "figure"}
    rows = evaluate(CLAIMS, data, params)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    for r in rows:
        assert r["verdict"] in VERDICTS and isinstance(r["detail"], str), r["id"]
        if r["verdict"] != NOT_RUN:
            assert math.isfinite(r["value"]) and r["n"] > 0, r["id"]
    ran = {r["id"] for r in rows if r["verdict"] != NOT_RUN}
    assert {"S1A.a", "S1B.d", "S2A.a", "S2B.c", "S2C.a", "S2D.a", "S3.a"} <= ran
