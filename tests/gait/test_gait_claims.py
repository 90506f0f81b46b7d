"""GAIT-prop claims (floss/gait/claims.py): every criterion on figure data whose verdict is known,
built by the figures' own build() from hand-made training results; and every measure on the
figure data of a real (tiny) training run."""

import math

import numpy as np
import pytest
from figure_inputs import gait_run as _run

from floss.core import claims as K
from floss.core import io
from floss.core.errors import FlossError
from floss.core.figures import render
from floss.gait import figures, plan, stages
from floss.gait.claims import CLAIMS
from floss.gait.data import load
from floss.gait.layers import init_net, square_widths
from floss.gait.training import GaitConfig, train

BY_ID = {c.id: c for c in CLAIMS}
JITTER = np.array([-0.01, 0.0, 0.01])  # seed s.d. 0.01 -> accuracy tolerance 2 * 0.01 = 0.02


def _g1(**runs):
    """G1 data from runs named DATASET_VARIANT_RULE."""
    return figures.build_g1({k.replace("_", "/"): v for k, v in runs.items()}, {})


def _g2(**runs):
    return figures.build_g2({k.replace("_", "/"): v for k, v in runs.items()}, {})


def _measure(cid, data):
    m = BY_ID[cid].measure(data, {})
    assert isinstance(m, K.Measurement)
    return m


def test_claims_cover_every_figure_and_cite_the_science_notes():
    assert len(BY_ID) == len(CLAIMS)
    assert {c.figure for c in CLAIMS} == set(plan.FIGURES)
    for c in CLAIMS:
        assert "docs/science.md §4" in c.source and c.id[:2] in c.figure
        assert all(getattr(c, f) for f in K.FIELDS)


def test_added_g1_variables_are_the_accuracy_tables_numbers():
    runs = {
        "digits/square/bp": _run(0.95 + JITTER, 0.97 + JITTER),
        "digits/square/gait": _run(0.9 + JITTER),
    }
    data = figures.build_g1(runs, {})
    rows = {r["rule"]: r for r in stages.table(runs)}
    for rule, row in rows.items():
        for what in ("final", "peak"):
            v = data[f"{what}_test_accuracy_digits_square_{rule}"]
            assert v.attrs["units"] == "1" and v.attrs["long_name"]
            assert float(v.mean()) == pytest.approx(row[f"{what}_test_mean"])
    assert data["peak_test_epoch_digits_square_bp"].values.tolist() == [10 / 3] * 3


# --- G1.a / G1.d / G1.e: GAIT-prop matches BP ---------------------------------------------------
@pytest.mark.parametrize(
    ("gait_final", "bp_peak", "tp_final", "expected"),
    [
        (0.955 + JITTER, None, 0.5, K.REPRODUCED),  # |diff| 0.005 < tol 0.02
        (0.90 + JITTER, None, 0.5, K.DIRECTION),  # 0.05 > tol, but nearer BP than TP
        (0.95 + JITTER, 0.99 + JITTER, 0.5, K.DIRECTION),  # final matches, peak falls short
        (0.40 + JITTER, None, 0.9, K.NOT_REPRODUCED),  # TP nearer BP than GAIT-prop
    ],
)
@pytest.mark.parametrize(("cid", "variant"), [("G1.a", "square"), ("G1.d", "tower")])
def test_gait_matches_bp(cid, variant, gait_final, bp_peak, tp_final, expected):
    data = _g1(
        **{
            f"digits_{variant}_bp": _run(0.95 + JITTER, bp_peak),
            f"digits_{variant}_gait": _run(gait_final),
            f"digits_{variant}_tp": _run(tp_final),
        }
    )
    m = _measure(cid, data)
    assert m.verdict == expected and m.n == 3
    assert m.value == pytest.approx(float(np.mean(gait_final)) - 0.95)
    assert m.spread == pytest.approx(0.0, abs=1e-12)  # paired by seed: the jitter cancels


def test_gait_matches_bp_floor_and_worst_data_set():
    # identical seeds (s.d. 0): the tolerance is the 0.005 floor
    bp = _run(0.95)
    assert _measure("G1.e", _g1(digits_linear_bp=bp, digits_linear_gait=_run(0.946))).verdict == (
        K.REPRODUCED
    )
    m = _measure("G1.e", _g1(digits_linear_bp=bp, digits_linear_gait=_run(0.943)))
    assert m.verdict == K.NOT_REPRODUCED  # no TP run: no direction without the size
    # two data sets: the claim holds only where it holds on both; numbers of the failing one
    data = _g1(
        digits_square_bp=bp,
        digits_square_gait=_run(0.95),
        mnist_square_bp=bp,
        mnist_square_gait=_run(0.5),
    )
    m = _measure("G1.a", data)
    assert m.verdict == K.NOT_REPRODUCED and m.value == pytest.approx(-0.45)
    assert "digits:" in m.detail and "mnist:" in m.detail


def test_gait_matches_bp_not_run_without_the_variant():
    data = _g1(digits_square_bp=_run(0.95), digits_square_gait=_run(0.95))
    assert _measure("G1.d", data).verdict == K.NOT_RUN
    assert _measure("G1.a", data).verdict == K.REPRODUCED


# --- G1.b: TP falls short; G1.c: TP peaks then degrades -----------------------------------------
@pytest.mark.parametrize(
    ("tp_final", "tp_peak", "expected"),
    [
        (0.60 + JITTER, 0.65 + JITTER, K.DIRECTION),  # learns, well below BP: direction only
        (0.94 + JITTER, 0.96 + JITTER, K.NOT_REPRODUCED),  # within BP's tolerance
        (0.10 + JITTER, 0.11 + JITTER, K.NOT_REPRODUCED),  # at chance: does not learn
    ],
)
def test_tp_falls_short(tp_final, tp_peak, expected):
    data = _g1(
        digits_square_bp=_run(0.95 + JITTER, 0.96 + JITTER),
        digits_square_tp=_run(tp_final, tp_peak),
    )
    m = _measure("G1.b", data)
    assert m.verdict == expected and m.value == pytest.approx(float(np.mean(tp_final)) - 0.95)


@pytest.mark.parametrize(
    ("tp_peak", "expected"),
    [(0.80 + JITTER, K.DIRECTION), (0.605 + JITTER, K.NOT_REPRODUCED)],
)
def test_tp_degrades(tp_peak, expected):
    data = _g1(
        digits_square_bp=_run(0.95 + JITTER, 0.955 + JITTER),
        digits_square_tp=_run(0.60 + JITTER, tp_peak),
    )
    m = _measure("G1.c", data)
    assert m.verdict == expected
    assert m.value == pytest.approx(float(np.mean(tp_peak)) - 0.60)
    assert "peaks at epoch 3.33 of 10" in m.detail
    assert _measure("G1.c", _g1(digits_square_bp=_run(0.9))).verdict == K.NOT_RUN


# --- G2.a / G2.b: alignment at the orthogonal init vs gamma -------------------------------------
@pytest.mark.parametrize(
    ("cos_gamma", "a", "b"),
    [
        ({1e-3: 0.999, 1.0: 0.7}, K.REPRODUCED, K.DIRECTION),
        ({1e-3: 0.9, 1.0: 0.7}, K.DIRECTION, K.DIRECTION),  # below the bound 0.99
        ({1e-3: -0.2, 1.0: 0.7}, K.NOT_REPRODUCED, K.NOT_REPRODUCED),
        ({1e-3: 0.8, 1.0: 0.9}, K.DIRECTION, K.NOT_REPRODUCED),  # worse at small gamma
        ({1e-4: 0.5, 1e-3: 0.999, 1.0: 0.7}, K.REPRODUCED, K.DIRECTION),  # 1e-3 is nearest
        ({1e-1: 0.999, 1.0: 0.7}, K.NOT_RUN, K.DIRECTION),  # no gamma <= 1e-2
        ({1e-3: 0.999}, K.REPRODUCED, K.NOT_RUN),  # no larger gamma to compare with
    ],
)
def test_alignment_vs_gamma(cos_gamma, a, b):
    runs = {f"digits_square_{r}": _run(0.9, cos_gamma=cos_gamma) for r in ("bp", "gait", "tp")}
    data = _g2(**runs)
    ma, mb = _measure("G2.a", data), _measure("G2.b", data)
    assert (ma.verdict, mb.verdict) == (a, b)
    if a != K.NOT_RUN:
        g = min(cos_gamma, key=lambda g: abs(math.log10(g) + 3))
        assert ma.value == pytest.approx(cos_gamma[g]) and ma.n == 3


def test_alignment_at_init_reads_the_run_that_starts_orthogonal():
    # the reference's init: BP (lambda 0) orthogonal, GAIT-prop and TP Gaussian. The theorem is
    # tested on the orthogonal start, whichever rule then trains the net
    gauss = {1e-3: 0.01, 1.0: 0.02}
    runs = {
        "digits_square_bp": _run(0.9),
        "digits_square_gait": _run(0.9, cos_gamma=gauss, init="gaussian"),
        "digits_square_tp": _run(0.9, cos_gamma=gauss, init="gaussian"),
    }
    m = _measure("G2.a", _g2(**runs))
    assert m.verdict == K.REPRODUCED and m.value == pytest.approx(0.999)
    assert "bp run's orthogonal init" in m.detail
    runs["digits_square_bp"] = _run(0.9, cos_gamma=gauss, init="gaussian")
    for cid in ("G2.a", "G2.b"):
        assert _measure(cid, _g2(**runs)).verdict == K.NOT_RUN  # no orthogonal start
    unknown = _run(0.9)
    del unknown.attrs["init"]  # a result file of unknown init does not count
    assert _measure("G2.a", _g2(digits_square_gait=unknown)).verdict == K.NOT_RUN


def test_alignment_uses_each_seed():
    # one seed of three far off: the mean drops below the bound
    run = _run(0.9)
    run["gamma_alignment"].loc[dict(when="initial", gamma=1e-3, layer=2, seed=2)] = 0.97
    m = _measure("G2.a", _g2(digits_square_gait=run))
    assert m.verdict == K.DIRECTION and m.value == pytest.approx((0.999 * 2 + 0.97) / 3)
    assert m.spread > 0.01


# --- G2.c: aligned while orthogonal -------------------------------------------------------------
@pytest.mark.parametrize(
    ("gait", "bp", "expected"),
    [
        ((0.95, 1.0), (0.5, 8.0), K.DIRECTION),
        ((0.5, 1.0), (0.9, 8.0), K.NOT_REPRODUCED),  # BP-trained nets align better
        ((0.95, 9.0), (0.5, 8.0), K.NOT_REPRODUCED),  # GAIT-prop's weights not nearer orthogonal
    ],
)
def test_aligned_while_orthogonal(gait, bp, expected):
    data = _g2(
        digits_square_gait=_run(0.9, cos_train=gait[0], orth=gait[1]),
        digits_square_bp=_run(0.9, cos_train=bp[0], orth=bp[1]),
    )
    m = _measure("G2.c", data)
    assert m.verdict == expected and m.value == pytest.approx(gait[0])


def test_aligned_while_orthogonal_not_run_without_training_records():
    data = _g2(digits_square_gait=_run(0.9, records=1), digits_square_bp=_run(0.9, records=1))
    assert _measure("G2.c", data).verdict == K.NOT_RUN
    assert _measure("G2.c", _g2(digits_square_gait=_run(0.9))).verdict == K.NOT_RUN


def test_old_figure_data_without_per_seed_variables_is_an_error():
    data = _g1(digits_square_bp=_run(0.95), digits_square_gait=_run(0.95))
    old = data.drop_vars([v for v in data.data_vars if not v.startswith(("train_", "test_"))])
    with pytest.raises(FlossError, match="G1.a: figure G1_gait_accuracy data lacks"):
        K.evaluate(CLAIMS, {"G1_gait_accuracy": old}, {})


# --- every measure on real figure data ----------------------------------------------------------
def test_every_measure_on_figures_of_a_tiny_training_run(tmp_path):
    data = load("digits")
    runs = {}
    for rule, reg in (("bp", 0.0), ("gait", 0.1), ("tp", 1000.0)):
        cfg = GaitConfig(rule=rule, lr=1e-3, reg=reg, epochs=1, batch=128, eval_every=5)
        cfg.record_every, cfg.gamma_sweep = 5, [1e-3, 1e-1]
        net = init_net([1, 2], square_widths(64, 1), plan.reference_init(reg))
        runs[f"digits/square/{rule}"] = train(net, data, cfg)
    figs, params = {}, {}
    for name in plan.FIGURES:
        params[name] = {"choices": "tiny", **({"variant": "square"} if "G2" in name else {})}
        render(figures.FIGURES, name, runs, params[name], tmp_path / name)
        figs[name] = io.read(tmp_path / f"{name}.nc")
    rows = K.evaluate(CLAIMS, figs, params)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    for r in rows:
        assert r["verdict"] in K.VERDICTS and r["detail"]
        if r["id"] in ("G1.d", "G1.e"):  # no tower or linear nets in this run
            assert r["verdict"] == K.NOT_RUN
        else:
            assert r["verdict"] != K.NOT_RUN and np.isfinite(r["value"]) and r["n"] == 2
    # at the orthogonal init (BP's, lambda 0) GAIT-prop's update is BP's (docs/science.md §4.2)
    g2a = rows[[c.id for c in CLAIMS].index("G2.a")]
    assert g2a["verdict"] == K.REPRODUCED and "bp run's orthogonal init" in g2a["detail"]
    assert figs["G2_gait_alignment"].attrs["init_digits_gait"] == "gaussian"
