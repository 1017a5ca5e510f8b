"""Data loaders on files the tests write, the toy sentiment set, the Mackey-Glass file and generator."""

import gzip

import numpy as np
import pytest

from qthybrid.data import (IDXError, encode, find_directory, load_digits, load_idx_images, load_mackey_glass,
                           load_sentiment, mackey_glass, read_idx, write_idx)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) % 120).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"array{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


def test_idx_matches_the_reference_layout(tmp_path):
    """The bytes are the published format: magic 0 0 8 ndim, big-endian sizes, then data."""
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    assert read_idx(path).tolist() == [7, 2, 9]


@pytest.mark.parametrize("content, message", [
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0]), "truncated inside its header"),
    (bytes([1, 2, 8, 1, 0, 0, 0, 1, 1]), "not an IDX file"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 1]), "unknown IDX data type"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 9]), "trailing bytes"),
])
def test_corrupt_idx_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=message):
        read_idx(path)


def test_corrupt_gzip_is_reported(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1]))[:-6])
    with pytest.raises(IDXError, match="bad.gz"):
        read_idx(path)


def write_image_set(folder, n_train=20, n_test=8, compress=True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n, dtype=np.uint8))


@pytest.mark.parametrize("compress", [True, False])
def test_image_loaders_read_idx_directories(tmp_path, monkeypatch, compress):
    write_image_set(tmp_path, compress=compress)
    X, y = load_idx_images("mnist", "train", directory=tmp_path)
    assert X.shape == (20, 784) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert y.shape == (20,) and y.dtype == np.int64
    monkeypatch.setenv("QTHYBRID_DATA", str(tmp_path.parent))
    (tmp_path.parent / "fashion-mnist").mkdir(exist_ok=True)
    write_image_set(tmp_path.parent / "fashion-mnist", compress=compress)
    X_test, _ = load_idx_images("fashion-mnist", "test", flatten=False)
    assert X_test.shape == (8, 28, 28)


def test_mismatched_or_missing_files_give_clear_errors(tmp_path):
    write_image_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(IDXError, match="do not pair up"):
        load_idx_images("mnist", "train", directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="no mnist IDX files"):
        find_directory("mnist", tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown image set"):
        find_directory("cifar", tmp_path)


def test_digits_are_the_offline_default():
    X_train, X_test, y_train, y_test = load_digits()
    assert X_train.shape[1] == 64 and len(X_train) + len(X_test) == 1797 and X_train.max() <= 1.0


def test_sentiment_set_needs_the_negation():
    train, test = load_sentiment()
    assert (len(train), len(test)) == (60, 20)
    words = {w for sentence, _ in train + test for w in sentence.split()}
    assert len(words) <= 20 and "not" in words
    assert not {s for s, _ in train} & {s for s, _ in test}
    for sentence, label in train + test:
        positive = any(w in ("good", "happy", "right") for w in sentence.split())
        assert label == (positive != ("not" in sentence.split()))
    assert encode("this is not good").shape == (4, 20)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        encode("this is excellent")


def series_statistics(series):
    """Range, zero crossings, and the first minimum of the autocorrelation (lag)."""
    crossings = np.count_nonzero(np.diff(np.sign(series)))
    centred = series - series.mean()
    acf = np.array([centred[:-lag] @ centred[lag:] for lag in range(1, 60)]) / (centred @ centred)
    return series.min(), series.max(), crossings, 1 + int(np.argmax(np.diff(acf) > 0))


def test_standard_mackey_glass_file_is_shipped_intact():
    """The package's MackeyGlass_t17.txt is the published file (SHA-256 of Lukoševičius's copy)."""
    import hashlib
    from importlib import resources

    raw = (resources.files("qthybrid.data") / "MackeyGlass_t17.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == "7772906806bf183df89f684abfda817c4cabb50d4bb213c27c1f9d73e1192717"
    series = load_mackey_glass()
    assert series.shape == (10_000,) and series.dtype == np.float64
    assert series[0] == float("1.220639965678425032e-01")          # the file's first and last lines
    assert series[-1] == float("-1.003454126447647088e-01")
    low, high, crossings, first_minimum = series_statistics(series)
    assert (round(low, 4), round(high, 4), first_minimum) == (-0.5282, 0.3111, 24)


def test_mackey_glass_generator_matches_the_standard_file():
    """RK4 on the delay equation (tau = 17) has the standard file's statistics: range, zero crossings
    per 10k samples and the first autocorrelation minimum (the file's own values are not reproducible:
    its initial history is not published)."""
    generated, standard = series_statistics(mackey_glass(10_000)), series_statistics(load_mackey_glass())
    assert generated[0] == pytest.approx(standard[0], abs=0.01) and generated[1] == pytest.approx(standard[1], abs=0.01)
    assert generated[2] == pytest.approx(standard[2], rel=0.06)
    assert generated[3] == standard[3]
    raw = mackey_glass(500, transform=None)
    assert 0.2 < raw.min() and raw.max() < 1.5


def test_mackey_glass_loader_reads_any_series_file(tmp_path):
    values = np.array([0.5, -1.25e-3, 3.0])
    path = tmp_path / "series.txt"
    np.savetxt(path, values)
    np.testing.assert_array_equal(load_mackey_glass(path), values)
    path.write_text("0.5\r\n-0.25\r\n")                     # CRLF, as in the standard file
    np.testing.assert_array_equal(load_mackey_glass(str(path)), [0.5, -0.25])


@pytest.mark.parametrize("content, message", [
    ("0.1\nabc\n0.3\n", "not a plain-text series"),
    ("0.1 0.2\n0.3 0.4\n", "one value per line, found 2 columns"),
    ("", "holds no values"),
    ("0.1\nnan\n", "value 2 is nan"),
    ("0.1\n0.2\ninf\n", "value 3 is inf"),
])
def test_bad_mackey_glass_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        load_mackey_glass(path)
    assert "bad.txt" in str(error.value)
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        load_mackey_glass(tmp_path / "nowhere.txt")
