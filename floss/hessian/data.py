"""Sequential image classification data for the Hessian experiments (docs/science.md §3.1, §3.5).

Images are read row by row: one row per time step, its pixels as the input units.
- `digits` (default, no download): scikit-learn's 8x8 digits in [0, 1], with `pad_rows` blank
  rows above and below [CHANGED: mimics MNIST's blank margin, which decides how much error
  signal W_in gets under the three-factor truncation; T = 8 + 2 pad_rows], split stratified
  1200 / 297 / 300 (train / validation / test) with a fixed seed.
- `mnist`: IDX files the user provides (T = 28 steps of 28 pixels, as the reference). As TF's
  read_data_sets, the first 5000 training images are the validation set, the other 55000 the
  training set; the test set is t10k.
`ext_time` repeats every row (the reference's ext_time flag, 1 = off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from floss.core.datasets import ImageSet, load_digits, load_idx, split

MNIST_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Sequences:
    inputs: torch.Tensor  # (T, n, n_in) float
    labels: torch.Tensor  # (n,) int64

    def take(self, idx) -> Sequences:
        return Sequences(self.inputs[:, idx], self.labels[idx])

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
    return Sequences(x, torch.as_tensor(data.labels, device=device))


def digits(sizes: tuple[int, int, int] = (1200, 297, 300), seed: int = 0) -> dict[str, ImageSet]:
    return dict(zip(SPLITS, split(load_digits(), sizes, seed)))


def mnist(paths: Mapping[str, str | Path], validation: int = 5000) -> dict[str, ImageSet]:
    missing = [k for k in MNIST_KEYS if not paths.get(k)]
    if missing:
        raise ValueError(f"config key hessian.data.mnist: missing {missing}; needs {MNIST_KEYS}")
    train = load_idx(paths["train_images"], paths["train_labels"])
    test = load_idx(paths["test_images"], paths["test_labels"])
    if len(train.labels) <= validation:
        raise ValueError(
            f"{paths['train_images']}: {len(train.labels)} images; need more than the "
            f"{validation} validation images"
        )
    val = ImageSet(train.images[:validation], train.labels[:validation], train.name)
    rest = ImageSet(train.images[validation:], train.labels[validation:], train.name)
    return {"train": rest, "validation": val, "test": test}


def load(
    name: str,
    pad_rows: int,
    ext_time: int,
    seed: int = 0,
    sizes: tuple[int, int, int] = (1200, 297, 300),
    mnist_paths: Mapping[str, str | Path] | None = None,
    validation: int = 5000,
    dtype=torch.float32,
    device="cpu",
) -> dict[str, Sequences]:
    """Train / validation / test sequences of `digits` or `mnist`."""
    if name == "digits":
        sets = digits(sizes, seed)
    elif name == "mnist":
        sets = mnist(mnist_paths or {}, validation)
    else:
        raise ValueError(f"config key hessian.data.name: {name!r}; allowed: ['digits', 'mnist']")
    return {k: to_sequences(v, pad_rows, ext_time, dtype, device) for k, v in sets.items()}
