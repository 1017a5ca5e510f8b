"""Classical and simulated-quantum tunnelling activations, side by side.

    python examples/compare_backends.py [--out runs/compare_backends] [--seed 1]

T(E) for the paper's barrier (V0 = 30 eV, g = 0.5) from: the closed form (plane
wave), the torch statevector, Aer and PennyLane lightning.qubit simulations of the
accurate preset (whole-curve bands: the plane-wave T from a few broad packets),
and the hardware preset (one particle on a 9-qubit chain, 114 CZ on IBM's heavy-hex
devices) on Aer: ideal, under a fake IBM device's noise without mitigation, and
with the default mitigation (post-selection, mthree readout correction, mitiq
ZNE; needs the ``hardware`` extra). Every column is computed at every energy. Prints one
table and saves a PNG.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import qthybrid
from qthybrid import Barrier, transmission


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/compare_backends")
    parser.add_argument("--noise-backend", default="fake_torino")
    parser.add_argument("--seed", type=int, default=1, help="seed of the noisy runs' sampling (default: %(default)s)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    barrier = Barrier()
    eps = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
    E = eps * barrier.V0
    noisy = f"aer (hardware, {args.noise_backend}"
    columns = {
        "analytic (plane wave)": lambda: transmission(E, barrier),
        "statevector (accurate)": lambda: qthybrid.get_backend("statevector").transmission(E, barrier),
        "aer (accurate)": lambda: qthybrid.get_backend("aer").transmission(E, barrier),
        "lightning.qubit (accurate)": lambda: qthybrid.get_backend("pennylane", device="lightning.qubit").transmission(
            E, barrier),
        "aer (hardware, ideal)": lambda: qthybrid.get_backend("aer", preset="hardware").transmission(E, barrier),
        f"{noisy}, raw)": lambda: qthybrid.get_backend(
            "aer", preset="hardware", noise_backend=args.noise_backend, mitigation="none",
            seed=args.seed).transmission(E, barrier),
        f"{noisy}, mitigated)": lambda: qthybrid.get_backend(
            "aer", preset="hardware", noise_backend=args.noise_backend, seed=args.seed).transmission(E, barrier),
    }
    results, seconds = {}, {}
    for name, compute in columns.items():
        start = time.perf_counter()
        values = np.asarray(compute())
        seconds[name] = time.perf_counter() - start
        results[name] = values
        print(f"{name:28s} {seconds[name]:7.1f} s", flush=True)

    header = "| E/V0 | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for i, e in enumerate(eps):
        cells = [f"{results[c][i]:.4f}" for c in columns]
        lines.append(f"| {e:g} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print("\n" + table)
    (out / "table.md").write_text(table + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fine = np.geomspace(0.05, 10, 400)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(fine, transmission(fine * barrier.V0, barrier), "k-", label="analytic (plane wave)")
    for name, marker in zip(list(columns)[1:], "osD^vx<"):
        ax.plot(eps, results[name], marker, linestyle="none", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("E / V0")
    ax.set_ylabel("transmission T")
    ax.set_title("QT activation: closed form vs simulated barrier scattering")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "transmission.png", dpi=120)
    print(f"\nsaved {out / 'table.md'} and {out / 'transmission.png'}")


if __name__ == "__main__":
    main()
