"""qthybrid's echo state network (QT and tanh reservoirs) against reservoirpy's on the same data.

    python benchmarks/esn_reservoirpy.py [--seeds 42,0,1]

Mackey-Glass from qthybrid.data (tau = 17, tanh(x - 1)), the paper's protocol:
N = 1000, leak 0.3, spectral radius 1.25, dense uniform U(-0.5, 0.5) input,
bias and recurrent weights, ridge 1e-8, 100 washout / 2000 training steps, then
500 free-run steps seeded with u = data[2000]. reservoirpy (if installed) gets the
same settings (rc_connectivity = input_connectivity = 1, uniform matrices).
MSE and NMSE over the 500 steps and wall time (fit + free run) per seed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _report import write_report
from qthybrid.data import mackey_glass
from qthybrid.models import EchoStateNetwork


def qthybrid_esn(activation, data, seed):
    model = EchoStateNetwork(activation=activation, random_state=seed).fit(data[:2000, None], data[1:2001])
    return model.generate(500, data[2000])


def reservoirpy_esn(data, seed):
    from reservoirpy import mat_gen
    from reservoirpy.nodes import Reservoir, Ridge

    uniform = mat_gen.uniform(low=-0.5, high=0.5)
    reservoir = Reservoir(1000, lr=0.3, sr=1.25, input_scaling=1.0, rc_connectivity=1.0, input_connectivity=1.0,
                          W=uniform, Win=uniform, bias=uniform, seed=seed)
    esn = reservoir >> Ridge(ridge=1e-8)
    esn.fit(data[:2000, None], data[1:2001, None], warmup=100)
    u, out = np.array([data[2000]]), []
    for _ in range(500):
        u = np.asarray(esn(u)).ravel()
        out.append(u[0])
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,0,1")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    data = mackey_glass(10_000)
    target = data[2001:2501]
    contenders = {"qthybrid ESN, QT reservoir": lambda seed: qthybrid_esn("qt", data, seed),
                  "qthybrid ESN, tanh reservoir": lambda seed: qthybrid_esn("tanh", data, seed)}
    try:
        import reservoirpy  # noqa: F401

        contenders["reservoirpy ESN, tanh reservoir"] = lambda seed: reservoirpy_esn(data, seed)
    except ImportError:
        print("reservoirpy is not installed: its row is skipped")
    rows = []
    for name, run in contenders.items():
        mse, seconds = [], []
        for seed in seeds:
            start = time.perf_counter()
            prediction = run(seed)
            seconds.append(time.perf_counter() - start)
            mse.append(float(np.mean((prediction - target) ** 2)))
        rows.append({"model": name, "MSE_seed_42": mse[0] if seeds[0] == 42 else "",
                     "MSE_median": statistics.median(mse), "NMSE_median": statistics.median(mse) / float(np.var(target)),
                     "seconds_median": statistics.median(seconds)})
        print(rows[-1], flush=True)
    print(write_report("esn_reservoirpy", rows, ["model", "MSE_seed_42", "MSE_median", "NMSE_median",
                                                 "seconds_median"], extra={"seeds": seeds}))


if __name__ == "__main__":
    main()
