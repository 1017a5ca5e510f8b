"""IDX files (the MNIST family's format), gz-compressed or raw, with checked headers.

Layout: two zero bytes, a type code (0x08 unsigned byte ... 0x0E float64), the
number of dimensions, one big-endian uint32 per dimension, then the data in
C order. Truncated or corrupt files raise ``IDXError`` naming the file.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
          np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


class IDXError(ValueError):
    """An IDX file is missing, truncated or malformed."""


def _open(path: Path):
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _read_at_most(handle, size: int, block: int = 1 << 24) -> bytearray:
    """Up to ``size`` bytes, read in blocks: memory follows the data present, not a header's claim."""
    data = bytearray()
    while len(data) < size:
        chunk = handle.read(min(block, size - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or raw, detected from the content)."""
    path = Path(path)
    if not path.is_file():
        raise IDXError(f"IDX file not found: {path}")
    try:
        with _open(path) as handle:
            header = handle.read(4)
            if len(header) < 4 or header[:2] != b"\x00\x00":
                raise IDXError(f"{path} is not an IDX file (bad magic {header!r})")
            code, ndim = header[2], header[3]
            if code not in _TYPES:
                raise IDXError(f"{path}: unknown IDX data type 0x{code:02X}")
            raw_shape = handle.read(4 * ndim)
            if len(raw_shape) < 4 * ndim:
                raise IDXError(f"{path} is truncated inside its header")
            shape = struct.unpack(f">{ndim}I", raw_shape)
            dtype = np.dtype(_TYPES[code])
            expected = math.prod(shape) * dtype.itemsize
            payload = _read_at_most(handle, expected + 1)
    except (OSError, EOFError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        raise IDXError(f"{path} could not be read (corrupt or truncated): {exc}") from None
    if len(payload) < expected:
        raise IDXError(f"{path} is truncated: header promises {expected} data bytes for shape {shape}, "
                       f"found {len(payload)}")
    if len(payload) > expected:
        raise IDXError(f"{path} has trailing bytes after the {expected} data bytes of shape {shape}")
    return np.frombuffer(payload, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as IDX (gzip when ``compress`` or the name ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if np.dtype(dtype) not in _CODES:
        raise IDXError(f"IDX cannot store dtype {array.dtype}")
    data = bytes([0, 0, _CODES[np.dtype(dtype)], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += np.ascontiguousarray(array.astype(dtype)).tobytes()
    compress = path.suffix == ".gz" if compress is None else compress
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as handle:
        handle.write(data)
