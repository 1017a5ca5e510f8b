"""Image classification sets: MNIST and Fashion-MNIST (IDX files), and scikit-learn's digits.

The IDX directory comes from the ``directory`` argument, else ``$QTHYBRID_DATA/<name>``,
else (Fashion-MNIST) Debian's ``dataset-fashion-mnist`` location
``/usr/share/datasets/fashion-mnist``. Nothing is downloaded unless
:func:`download` is called explicitly.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx

_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_DEBIAN = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
_MIRRORS = {"mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"}


def find_directory(name: str, directory=None) -> Path:
    """Where the IDX files of ``name`` ("mnist" or "fashion-mnist") are (see module docstring)."""
    if name not in _MIRRORS:
        raise ValueError(f"unknown image set {name!r}; known: mnist, fashion-mnist")
    candidates = [Path(directory)] if directory is not None else []
    if os.environ.get("QTHYBRID_DATA"):
        candidates.append(Path(os.environ["QTHYBRID_DATA"]) / name)
    if name in _DEBIAN:
        candidates.append(_DEBIAN[name])
    for candidate in candidates:
        if any((candidate / f).exists() or (candidate / (f + ".gz")).exists() for f in _FILES["train"]):
            return candidate
    hint = " (apt-get install dataset-fashion-mnist)" if name == "fashion-mnist" else ""
    raise FileNotFoundError(f"no {name} IDX files in {', '.join(map(str, candidates)) or 'any known place'}: "
                            f"pass directory=, set QTHYBRID_DATA, or call qthybrid.data.download({name!r}, ...)"
                            f"{hint}")


def _file(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.exists():
            return candidate
    raise IDXError(f"missing {stem}[.gz] in {directory}")


def load_idx_images(name: str, split: str = "train", directory=None, flatten: bool = True):
    """(X, y) with X float32 in [0, 1] (flattened to 784 by default) and y int64 labels."""
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = find_directory(name, directory)
    images_file, labels_file = (_file(folder, stem) for stem in _FILES[split])
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise IDXError(f"{images_file} and {labels_file} do not pair up: shapes {images.shape}, {labels.shape}")
    X = images.astype(np.float32) / 255.0
    return (X.reshape(len(X), -1) if flatten else X), labels.astype(np.int64)


def load_mnist(split: str = "train", directory=None, flatten: bool = True):
    return load_idx_images("mnist", split, directory, flatten)


def load_fashion_mnist(split: str = "train", directory=None, flatten: bool = True):
    return load_idx_images("fashion-mnist", split, directory, flatten)


def load_digits(seed: int = 0, test_fraction: float = 0.25):
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1], split (X_train, X_test, y_train, y_test)."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    digits = sk_digits()
    X = (digits.data / 16.0).astype(np.float32)
    return train_test_split(X, digits.target.astype(np.int64), test_size=test_fraction, random_state=seed,
                            stratify=digits.target)


def download(name: str, directory) -> Path:
    """Fetch the four gz IDX files of ``name`` into ``directory`` (explicit opt-in; needs internet)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stem in (*_FILES["train"], *_FILES["test"]):
        target = directory / (stem + ".gz")
        if not target.exists():
            urllib.request.urlretrieve(_MIRRORS[name] + stem + ".gz", target)
        read_idx(target)   # fail now, not later, on a bad download
    return directory
