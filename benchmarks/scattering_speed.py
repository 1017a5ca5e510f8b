"""One 64-energy T(E) curve per preset: numpy FFT floor vs statevector, Aer and PennyLane backends.

    python benchmarks/scattering_speed.py [--energies 64] [--aer-energies 64] [--presets nisq,accurate]

The floor is the same split-operator program in plain numpy (batched FFTs, each
energy read out at its own step count), the least work any implementation can
do. Every contender computes the same curve; the table gives wall time, the
ratio to the floor, the number of Aer jobs, and max |T - T_floor|. Gate counts
are those of the gate-level circuit at E/V0 = 1 (see circuits/manifest.json).
``--aer-energies`` lets Aer run on an evenly spaced subset of the accurate curve;
its time is then also scaled to the full curve by simulated steps.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _report import write_report
import qthybrid
from qthybrid import Barrier
from qthybrid.circuits import circuit_costs
from qthybrid.programs import scattering_preset

EPS_RANGE = {"accurate": (0.1, 10.0), "nisq": (0.25, 10.0)}


def numpy_floor(program, eps: np.ndarray) -> np.ndarray:
    """The program in plain numpy: all energies batched, each read out at its own step count."""
    schedule = program.schedule(eps)
    x, V = program.positions, program.potential()
    kinetic = np.exp(-1j * program.momenta**2 * schedule.dt)
    potential = np.exp(-1j * V * schedule.dt)
    order = np.argsort(schedule.steps, kind="stable")
    psi = program.envelope() * np.exp(-0.5j * V * schedule.dt) * np.exp(1j * schedule.k0[order, None] * x)
    T = np.empty(len(eps))
    active, done, half = order, 0, program.num_points // 2
    for target in np.unique(schedule.steps):
        for _ in range(int(target) - done):
            psi = np.fft.ifft(np.fft.fft(psi, axis=1) * kinetic, axis=1) * potential
        done = int(target)
        finished = schedule.steps[active] == target
        T[active[finished]] = (np.abs(psi[finished, half:]) ** 2).sum(axis=1)
        psi, active = psi[~finished], active[~finished]
    return T


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--energies", type=int, default=64)
    parser.add_argument("--aer-energies", type=int, default=64, help="Aer subset size on the accurate preset")
    parser.add_argument("--presets", default="nisq,accurate")
    parser.add_argument("--pennylane-presets", default="nisq",
                        help="presets timed on PennyLane devices (one accurate-preset energy takes ~150 s on "
                             "default.qubit)")
    parser.add_argument("--accurate-aer-forms", default="blocks",
                        help="Aer circuit forms timed on the accurate preset (the gate form takes ~1 h there)")
    args = parser.parse_args()

    barrier = Barrier()
    rows, costs = [], {}
    for preset in args.presets.split(","):
        program = scattering_preset(preset)
        eps = np.geomspace(*EPS_RANGE[preset], args.energies)
        total_steps = int(program.schedule(eps).steps.sum())
        numpy_floor(program, eps[-1:])                                    # warm-up: FFT plans
        floor, floor_seconds = timed(lambda: numpy_floor(program, eps))
        rows.append({"preset": preset, "implementation": "numpy FFT floor", "energies": len(eps),
                     "seconds": floor_seconds, "ratio_to_floor": 1.0, "jobs": "", "max_abs_dT": 0.0})
        statevector = qthybrid.get_backend("statevector", preset=preset, device="cpu")
        statevector.transmission(eps[-1:] * barrier.V0, barrier)          # warm-up: imports, threads
        values, seconds = timed(lambda: statevector.transmission(eps * barrier.V0, barrier))
        rows.append({"preset": preset, "implementation": "statevector (torch, cpu)", "energies": len(eps),
                     "seconds": seconds, "ratio_to_floor": seconds / floor_seconds, "jobs": "",
                     "max_abs_dT": float(np.abs(values - floor).max())})
        subset = np.arange(len(eps))
        if preset == "accurate" and args.aer_energies < len(eps):
            subset = np.unique(np.linspace(0, len(eps) - 1, args.aer_energies).round().astype(int))
        subset_steps = int(program.schedule(eps[subset]).steps.sum())
        devices = ["CPU"] + (["GPU"] if "GPU" in qthybrid.get_backend("aer").available_devices() else [])
        for device in devices:
            forms = args.accurate_aer_forms.split(",") if preset == "accurate" else ["blocks", "gates"]
            for form in forms:
                aer = qthybrid.get_backend("aer", preset=preset, form=form, device=device)
                aer.transmission(eps[-1:] * barrier.V0, barrier)                # warm-up
                result, seconds = timed(lambda: aer.run_transmission(eps[subset] * barrier.V0, barrier))
                full = seconds * total_steps / subset_steps
                rows.append({"preset": preset, "implementation": f"aer ({device}, {form})",
                             "energies": len(subset), "seconds": seconds,
                             "ratio_to_floor": full / floor_seconds, "jobs": len(result.metadata["job_ids"]),
                             "circuits": result.metadata["circuits"],
                             "max_abs_dT": float(np.abs(result.transmission - floor[subset]).max())})
        for device in ("default.qubit", "lightning.qubit") if preset in args.pennylane_presets.split(",") else ():
            for form in ("gates", "blocks"):
                pennylane = qthybrid.get_backend("pennylane", preset=preset, device=device, form=form)
                pennylane.transmission(eps[-1:] * barrier.V0, barrier)          # warm-up
                values, seconds = timed(lambda: pennylane.transmission(eps[subset] * barrier.V0, barrier))
                full = seconds * total_steps / subset_steps
                rows.append({"preset": preset, "implementation": f"pennylane ({device}, {form})",
                             "energies": len(subset), "seconds": seconds, "ratio_to_floor": full / floor_seconds,
                             "jobs": "", "max_abs_dT": float(np.abs(values - floor[subset]).max())})
        schedule_1 = program.schedule([1.0])
        costs[preset] = {"generic": circuit_costs(program, int(schedule_1.steps[0])),
                         "fake_torino": circuit_costs(program, int(schedule_1.steps[0]), "fake_torino")}
        for row in rows:
            if row["preset"] == preset:
                row["two_qubit_gates_at_eps1"] = costs[preset]["generic"]["two_qubit_gates"]
                row["total_steps_64"] = total_steps
    table = write_report("scattering_speed", rows,
                         ["preset", "implementation", "energies", "seconds", "ratio_to_floor", "jobs",
                          "max_abs_dT", "two_qubit_gates_at_eps1"],
                         extra={"gate_counts": costs, "eps_range": EPS_RANGE,
                                "note": "ratio_to_floor for an Aer subset is scaled to the full curve by "
                                        "simulated Trotter steps"})
    print(table)


if __name__ == "__main__":
    main()
