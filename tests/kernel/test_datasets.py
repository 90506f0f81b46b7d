"""Data loaders: files the test writes itself (nothing is downloaded)."""

import numpy as np
import pytest

from floss.core import datasets as D
from floss.core.errors import FlossError


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 20).astype(np.uint8)
    return tmp_path, images, labels


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(pair, suffix):
    tmp, images, labels = pair
    D.write_idx(tmp / f"img{suffix}", images)
    D.write_idx(tmp / f"lab{suffix}", labels)
    s = D.load_idx(tmp / f"img{suffix}", tmp / f"lab{suffix}")
    assert s.images.shape == (20, 28, 28) and s.images.max() <= 1.0
    np.testing.assert_array_equal(np.rint(s.images * 255).astype(np.uint8), images)
    np.testing.assert_array_equal(s.labels, labels)


def test_npz(pair):
    tmp, images, labels = pair
    np.savez(tmp / "imgs.npz", images)
    np.savez(tmp / "labels.npz", labels)
    s = D.load_files(tmp / "imgs.npz", tmp / "labels.npz")
    np.testing.assert_array_equal(s.labels, labels)
    assert s.images.shape == (20, 28, 28)


def test_bad_files_name_file_and_format(pair):
    tmp, images, labels = pair
    with pytest.raises(FlossError, match="missing.gz: no such file.*IDX"):
        D.read_idx(tmp / "missing.gz")
    D.write_idx(tmp / "img", images)
    (tmp / "cut").write_bytes((tmp / "img").read_bytes()[:-10])
    with pytest.raises(FlossError, match="cut: .*data bytes"):
        D.read_idx(tmp / "cut")
    (tmp / "text").write_text("not an idx file")
    with pytest.raises(FlossError, match="text: bad magic"):
        D.read_idx(tmp / "text")
    D.write_idx(tmp / "lab", labels[:5])
    with pytest.raises(FlossError, match="20 images but 5 labels"):
        D.load_idx(tmp / "img", tmp / "lab")
    np.savez(tmp / "other.npz", x=images)
    with pytest.raises(FlossError, match="other.npz: .*arr_0"):
        D.load_npz(tmp / "other.npz", tmp / "other.npz")


def test_digits_split_is_stratified_and_disjoint():
    d = D.load_digits()
    assert d.images.shape == (1797, 8, 8) and 0 <= d.images.min() and d.images.max() == 1.0
    train, val, test = D.split(d, (1200, 297, 300), seed=0)
    for part in (train, val, test):
        counts = np.bincount(part.labels, minlength=10)
        share = counts / counts.sum()
        assert np.abs(share - np.bincount(d.labels) / len(d.labels)).max() < 0.01
    keys = {img.tobytes() for part in (train, val, test) for img in part.images}
    assert len(keys) >= 1797 - 5  # disjoint (a handful of duplicate images exist)
    again = D.split(d, (1200, 297, 300), seed=0)
    np.testing.assert_array_equal(again[2].labels, test.labels)
