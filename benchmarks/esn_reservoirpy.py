"""qthybrid's echo state network against reservoirpy's, on the same data, protocol and matrices.

    python benchmarks/esn_reservoirpy.py [--seeds 42,0-9]

Data: the standard MackeyGlass_t17.txt shipped with qthybrid. The paper's protocol: N = 1000,
leak 0.3, spectral radius 1.25, W_in (bias and input columns) and W uniform U(-0.5, 0.5),
ridge 1e-8 on [1; u; x], 100 washout / 2000 training steps, then 500 free-run steps seeded
with u = data[2000]; MSE over them. Seed s draws the reservoir the authors' way,
RandomState(s); seed 42 is the paper's. Contenders per seed:

* qthybrid, QT reservoir (T(3 z), V0 = 30 eV, g = 0.5) and tanh reservoir;
* reservoirpy 0.4 (``pip install reservoirpy``) given qthybrid's matrices for that seed, with
  tanh and with the QT transmission as its activation: a second implementation of the same
  networks, whose free runs must follow qthybrid's;
* reservoirpy, tanh, drawing its own dense uniform matrices from the seed (its own generator).

Reported: MSE at seed 42, median and range over the seeds, the largest difference between
qthybrid's and reservoirpy's free runs on the same matrices, and the median wall time of
fit + free run (one BLAS thread).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _report import parse_seeds, write_report
from qthybrid.data import load_mackey_glass
from qthybrid.models import EchoStateNetwork
from qthybrid.physics import Barrier, transmission

TRAIN, STEPS = 2000, 500


def qthybrid_esn(activation, data, seed):
    """(free run, (W_in, W)) of qthybrid's ESN with the authors' draw RandomState(seed)."""
    model = EchoStateNetwork(activation=activation, random_state=np.random.RandomState(seed))
    model.fit(data[:TRAIN, None], data[1:TRAIN + 1])
    return model.generate(STEPS, data[TRAIN]), (model.W_in_, model.W_)


def reservoirpy_esn(data, seed, activation="tanh", matrices=None):
    """reservoirpy's ESN, the input also fed to the readout (features [1; u; x] as in the paper).
    ``matrices`` = (W_in with the bias column first, W), or None to let reservoirpy draw its own."""
    from reservoirpy import mat_gen
    from reservoirpy.nodes import Input, Reservoir, Ridge

    if matrices is None:
        uniform = mat_gen.uniform(low=-0.5, high=0.5)
        weights = {"W": uniform, "Win": uniform, "bias": uniform, "sr": 1.25, "seed": seed}
    else:
        W_in, W = matrices
        weights = {"W": W, "Win": W_in[:, 1:], "bias": W_in[:, 0], "sr": None}
    function = ((lambda z: transmission(3.0 * z, Barrier(30.0, 0.5))) if activation == "qt" else np.tanh)
    reservoir = Reservoir(1000, lr=0.3, input_scaling=1.0, rc_connectivity=1.0, input_connectivity=1.0,
                          activation=function, **weights)
    readout, source = Ridge(ridge=1e-8), Input()
    model = source >> reservoir >> readout & source >> readout
    model.fit(data[:TRAIN, None], data[1:TRAIN + 1, None], warmup=100)
    u, out = np.array([data[TRAIN]]), []
    for _ in range(STEPS):
        u = np.asarray(model(u)).ravel()
        out.append(u[0])
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,0-9")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    data = load_mackey_glass()
    target = data[TRAIN + 1:TRAIN + 1 + STEPS]
    try:
        import reservoirpy  # noqa: F401
        have_reservoirpy = True
    except ImportError:
        have_reservoirpy = False
        print("reservoirpy is not installed (pip install reservoirpy): its rows are skipped")
    names = ["qthybrid, QT reservoir", "qthybrid, tanh reservoir"]
    if have_reservoirpy:
        names += ["reservoirpy, QT activation, qthybrid's matrices", "reservoirpy, tanh, qthybrid's matrices",
                  "reservoirpy, tanh, its own uniform matrices"]
    mse = {name: [] for name in names}
    seconds = {name: [] for name in names}
    largest_gap = {name: 0.0 for name in names}
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore"):
        for seed in seeds:
            runs = {}
            for activation, name in (("qt", names[0]), ("tanh", names[1])):
                start = time.perf_counter()
                runs[name], matrices = qthybrid_esn(activation, data, seed)
                seconds[name].append(time.perf_counter() - start)
                if have_reservoirpy:
                    twin = names[2] if activation == "qt" else names[3]
                    start = time.perf_counter()
                    runs[twin] = reservoirpy_esn(data, seed, activation, matrices)
                    seconds[twin].append(time.perf_counter() - start)
                    largest_gap[twin] = max(largest_gap[twin], float(np.abs(runs[twin] - runs[name]).max()))
            if have_reservoirpy:
                start = time.perf_counter()
                runs[names[4]] = reservoirpy_esn(data, seed)
                seconds[names[4]].append(time.perf_counter() - start)
            for name, prediction in runs.items():
                mse[name].append(float(np.mean((prediction - target) ** 2)))
            print(seed, {name: f"{values[-1]:.4g}" for name, values in mse.items()}, flush=True)
    rows = []
    for name in names:
        values = np.array(mse[name])
        rows.append({"ESN": name, "MSE seed 42": f"{values[seeds.index(42)]:.5g}" if 42 in seeds else "",
                     "median MSE": f"{np.median(values):.3g}",
                     "range": f"{values.min():.3g}-{values.max():.3g}",
                     "median NMSE": f"{np.median(values) / float(np.var(target)):.3g}",
                     "max free-run gap to qthybrid": f"{largest_gap[name]:.2g}" if largest_gap[name] else "",
                     "median s": f"{statistics.median(seconds[name]):.2f}"})
    columns = ["ESN", "MSE seed 42", "median MSE", "range", "median NMSE", "max free-run gap to qthybrid",
               "median s"]
    print(write_report("esn_reservoirpy", rows, columns, extra={"seeds": seeds, "mse": mse}))


if __name__ == "__main__":
    main()
