"""Shared fixtures: a fixed random generator and the paper's default barrier."""

import numpy as np
import pytest

from qthybrid import Barrier


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def paper_barrier():
    return Barrier(V0=30.0, g=0.5)
