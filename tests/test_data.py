"""Offline data sets: fixed, stratified splits in the shape every model expects."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data import load_digits
from zoo.errors import InvalidNameError


@pytest.mark.parametrize(
    ("name", "n_train", "n_test"), [("mnist", 4000, 1000), ("uci-digits", 1438, 359)]
)
def test_splits_are_fixed_stratified_and_disjoint(name: str, n_train: int, n_test: int) -> None:
    train, test = load_digits(name, "train"), load_digits(name, "test")
    assert (len(train), len(test)) == (n_train, n_test)
    for d in (train, test):
        assert d.images.shape[1:] == (1, 32, 32) and d.images.dtype == np.float32
        assert d.images.min() >= -1.0 and d.images.max() <= 1.0
        counts = np.bincount(d.labels, minlength=10)
        assert counts.min() >= 0.9 * counts.max()  # every class nearly equally present
    flat_train = {img.tobytes() for img in train.images}
    assert not any(img.tobytes() in flat_train for img in test.images[:200])


def test_digits_are_centred_with_black_borders() -> None:
    for name in ("mnist", "uci-digits"):
        x = load_digits(name, "test").images
        assert np.all(x[:, :, :2, :] == -1.0), name  # padded rows stay background
        assert x[:, :, 12:20, 12:20].mean() > x[:, :, :6, :].mean()


def test_unknown_data_set_or_split_is_refused() -> None:
    with pytest.raises(InvalidNameError, match="mnist"):
        load_digits("cifar", "train")
    with pytest.raises(InvalidNameError, match="train"):
        load_digits("mnist", "validation")  # type: ignore[arg-type]
