"""Surrogate stages through the command line, the plan's checks and files, and the figures."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from floss.cli import main
from floss.core import io
from floss.core.errors import FlossError
from floss.core.plan import load_schema, validate
from floss.surrogate import bench, plan

ROOT = Path(__file__).resolve().parents[2]


def _config(name="config/smoke.yaml"):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "config/smoke.yaml", "config/paper.yaml"])
def test_configs_pass_schema_and_plan_checks(name):
    cfg = _config(name)
    validate(cfg, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))
    plan.check(cfg)
    assert plan.figures(cfg) == list(plan.FIGURES)
    files = plan.result_files(cfg)
    assert f"results/{cfg['scale']}/surrogate/xor/init.nc" in files
    assert not any("/figures/" in p for p in files)
    for figure in plan.FIGURES:
        assert set(plan.figure_inputs(cfg, figure).values()) <= set(files)
        assert json.loads(json.dumps(plan.figure_params(cfg, figure)))["figure"] == figure
        assert plan.FIGURES[figure] in plan.figure_caption(cfg, figure)


def test_disabled_or_absent_block_plans_nothing():
    cfg = _config()
    cfg["surrogate"]["enabled"] = False
    cfg["surrogate"]["xor"]["delays"] = [5]  # would fail the checks if they ran
    plan.check(cfg)
    plan.check({})
    assert plan.figures(cfg) == [] and plan.result_files(cfg) == []


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["xor"].update(delays=[5]), "surrogate.xor.delays"),
        (lambda c: c["xor"].update(curve_delay=8), "surrogate.xor.curve_delay"),
        (lambda c: c["spiking"].update(k=99), "surrogate.spiking.k"),
        (lambda c: c["binary"].update(ks=[9]), "surrogate.binary.ks"),
        (lambda c: c["binary"].update(compare_gains=[1.0]), "surrogate.binary.compare_gains"),
    ],
)
def test_plan_rejects_bad_blocks_naming_the_key(edit, key):
    cfg = copy.deepcopy(_config())
    edit(cfg["surrogate"])
    with pytest.raises(FlossError, match=key.replace(".", r"\.")):
        plan.check(cfg)


def test_s1a_draws_every_gain_and_s1b_the_reference_gain():
    cfg = _config("config.yaml")
    b = cfg["surrogate"]["binary"]
    inputs = plan.figure_inputs(cfg, "S1A_binary_lambda1")
    assert len(inputs) == (1 + len(b["compare_gains"])) * len(b["sharpness"])
    assert inputs["gain1.4_g0.5"] == "results/quick/surrogate/binary_gain1.4_g0.5/floss_k1.nc"
    s1b = plan.figure_inputs(cfg, "S1B_binary_spectrum")["before"]
    assert (
        s1b == f"results/quick/surrogate/binary_gain1_g{b['spectrum_sharpness']:g}/spectrum_init.nc"
    )
    assert plan.init_options(cfg, "binary_gain1.4_g0.5")["gain"] == 1.4
    lif = plan.init_options(cfg, "lif")
    assert (lif["jacobian_sharpness"], lif["backward_sharpness"]) == (5.0, 10.0)


@pytest.mark.parametrize("figure", list(plan.FIGURES))
def test_captions_state_the_choices(figure):
    cfg = _config("config.yaml")
    p = plan.figure_params(cfg, figure)
    assert p["choices"].startswith("Choices:") and p["choices"] in plan.figure_caption(cfg, figure)
    want = {
        "S1A": ["coupling gain 1 ", "1.4", "lr 0.001", "Tp = 55"],
        "S1B": ["sharpness g = 0.5", "coupling gain 1 "],
        "S2": ["coupling gain 1", "clip 0.03", "k = 24", "Ep = 100"],
        "S3": ["sharpness 5 in the Jacobian and 10", "lr 0.001", "k = 50"],
    }[figure[:2] if figure[:2] in ("S2", "S3") else figure[:3]]
    for text in want:
        assert text in p["choices"], (figure, text)


def test_schema_rejects_unknown_mode():
    cfg = _config()
    cfg["surrogate"]["xor"]["modes"] = ["sometimes"]
    with pytest.raises(FlossError, match="surrogate.xor.modes"):
        validate(cfg, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))


def _run(*args):
    assert main([str(a) for a in args]) == 0


def test_cli_stages_and_figures_end_to_end(tmp_path, capsys):
    t = tmp_path
    fast = ["--threads", "1", "--no-progress"]
    _run("surrogate-init", "--networks", 2, "--neurons", 6, "--sharpness", 0.5, "--out", t / "b.nc")
    _run(
        "surrogate-floss",
        t / "b.nc",
        "--k",
        2,
        "--epochs",
        3,
        "--steps",
        20,
        *fast,
        "--out",
        t / "f.nc",
    )
    _run(
        "surrogate-floss",
        t / "b.nc",
        "--k",
        2,
        "--epochs",
        3,
        "--steps",
        20,
        *fast,
        "--out",
        t / "f2.nc",
    )
    a, b = io.read(t / "f.nc"), io.read(t / "f2.nc")
    assert a.attrs["sharpness"] == 0.5
    np.testing.assert_array_equal(a["flossing_lyapunov"].values, b["flossing_lyapunov"].values)
    _run("surrogate-spectrum", t / "f.nc", "--steps", 40, "--transient", 5, "--out", t / "s.nc")
    assert io.read(t / "s.nc")["lyapunov"].shape == (2, 6)
    _run(
        "surrogate-init",
        "--model",
        "spiking",
        "--networks",
        1,
        "--neurons",
        4,
        "--inputs",
        5,
        "--backward-sharpness",
        8,
        "--out",
        t / "l.nc",
    )
    lif = io.read(t / "l.nc").attrs
    assert (lif["jacobian_sharpness"], lif["backward_sharpness"]) == (5.0, 8.0)  # default, set
    _run(
        "surrogate-floss",
        t / "l.nc",
        "--k",
        3,
        "--epochs",
        2,
        "--steps",
        20,
        "--transient",
        5,
        *fast,
        "--out",
        t / "lf.nc",
    )
    for m in ("none", "adaptive"):
        _run("surrogate-init", "--networks", 2, "--neurons", 6, "--batch", 2, "--out", t / "x.nc")
        _run(
            "surrogate-train",
            t / "x.nc",
            "--delay",
            2,
            "--steps",
            20,
            "--epochs",
            4,
            "--mode",
            m,
            "--pre-epochs",
            1,
            "--every",
            2,
            "--floss-epochs",
            1,
            "--k",
            2,
            "--floss-steps",
            15,
            "--check-steps",
            20,
            "--check-transient",
            2,
            *fast,
            "--out",
            t / f"t_{m}.nc",
        )
    params = {
        "scale": "test",
        "n_neurons": 6,
        "n_networks": 2,
        "epochs": 4,
        "steps": 20,
        "delays": [4],
        "modes": ["none", "adaptive"],
        "curve_delay": 4,
        "k": 2,
        "final_window": 2,
        "tolerance": 0.05,
    }
    inputs = [f"--input=d4_{m}={t / f't_{m}.nc'}" for m in ("none", "adaptive")]
    for fig in ("S2A_xor_accuracy", "S2D_gradient_vs_delay"):
        _run("figure", fig, *inputs, "--params", json.dumps(params), "--out", t / fig)
        data = io.read(t / f"{fig}.nc")
        assert (t / f"{fig}.png").stat().st_size > 0 and data.attrs["floss_step"]
    assert "adaptive_d4_mean_final_accuracy" in io.read(t / "S2D_gradient_vs_delay.nc").attrs


def test_cli_errors_name_the_option(tmp_path, capsys):
    _run("surrogate-init", "--networks", 1, "--neurons", 4, "--out", tmp_path / "b.nc")
    assert main(["surrogate-floss", str(tmp_path / "b.nc"), "--k", "9", "--out", "x.nc"]) == 2
    assert "--k must be <= the state size 4" in capsys.readouterr().err
    assert main(["figure", "S9", "--out", str(tmp_path / "f")]) == 2
    assert "unknown figure 'S9'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["surrogate-init", "--sharpness", "-1", "--out", "x.nc"])
    assert "--sharpness must be a finite number > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["surrogate-init", "--model", "spiking", "--jacobian-sharpness", "0", "--out", "x"])
    assert "--jacobian-sharpness must be a finite number > 0" in capsys.readouterr().err
    assert main(["surrogate-init", "--model", "spiking", "--sharpness", "2", "--out", "x"]) == 2
    assert "--sharpness is the binary RNN's" in capsys.readouterr().err
    with pytest.raises(FlossError, match="cpu only"):
        bench.report(1, [1], "cuda")


def test_each_caption_carries_only_its_own_reduction():
    cfg = _config("config.yaml")
    cfg["surrogate"]["reduced"] = {"S2": "xor reduced", "S3": "lif reduced"}
    for figure in plan.FIGURES:
        caption = plan.figure_caption(cfg, figure)
        assert ("xor reduced" in caption) == figure.startswith("S2"), figure
        assert ("lif reduced" in caption) == figure.startswith("S3"), figure
    cfg["surrogate"]["reduced"] = "every figure"  # one text still reaches every caption
    assert all("every figure" in plan.figure_caption(cfg, f) for f in plan.FIGURES)
