"""Data: IDX image sets (MNIST, Fashion-MNIST), digits, the toy sentiment set, Mackey-Glass (standard file, generator)."""

from .idx import IDXError, read_idx, write_idx
from .images import download, find_directory, load_digits, load_fashion_mnist, load_idx_images, load_mnist
from .mackey_glass import load_mackey_glass, mackey_glass
from .sentiment import VOCABULARY, encode, load_sentiment

__all__ = ["IDXError", "read_idx", "write_idx", "download", "find_directory", "load_digits",
           "load_fashion_mnist", "load_idx_images", "load_mnist", "load_mackey_glass", "mackey_glass",
           "VOCABULARY", "encode", "load_sentiment"]
