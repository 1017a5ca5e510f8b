"""The nisq preset against noisy fake IBM hardware, offline: T(E) with noise vs ideal vs analytic.

    python benchmarks/hardware_rehearsal.py [--shots 4000] [--devices fake_lagos,fake_torino]

For each energy: the analytic plane-wave and packet-averaged T, the ideal
circuit (Aer), the circuit transpiled for each fake device and simulated with
its noise model (Aer, exact density matrix), the same program sent through
PennyLane's ``qiskit.remote`` device with the fake backend (sampled), and
Braket's local simulator (ideal, sampled) where amazon-braket-sdk is installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from _report import write_report
import qthybrid
from qthybrid import Barrier, packet_transmission, transmission
from qthybrid.circuits.devices import fake_backend
from qthybrid.programs import scattering_preset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--devices", default="fake_lagos,fake_torino")
    args = parser.parse_args()

    barrier = Barrier()
    program = scattering_preset("nisq")
    eps = np.array([0.3, 0.5, 1.0, 2.0, 4.0])
    E = eps * barrier.V0
    columns = {"analytic": transmission(E, barrier),
               "packet_avg": packet_transmission(E, barrier, program.sigma_k),
               "ideal_circuit": qthybrid.get_backend("aer", preset="nisq").transmission(E, barrier)}
    for device in args.devices.split(","):
        columns[f"aer_noise_{device}"] = qthybrid.get_backend(
            "aer", preset="nisq", noise_backend=device).transmission(E, barrier)
        remote = qthybrid.get_backend("pennylane", preset="nisq", device="qiskit.remote",
                                      device_kwargs={"backend": fake_backend(device)}, shots=args.shots)
        columns[f"qiskit_remote_{device}"] = remote.transmission(E, barrier)
    try:
        from qthybrid.hardware import JobJournal, submit

        record = submit(program, eps, "braket:local", shots=args.shots,
                        journal=JobJournal(Path(__file__).parent / "results" / "rehearsal_jobs.sqlite"),
                        wait=True)
        columns["braket_local"] = np.array(record.result["transmission"])
    except ImportError:
        pass
    rows = [{"E/V0": float(e), **{name: float(values[i]) for name, values in columns.items()}}
            for i, e in enumerate(eps)]
    summary = {name: float(np.abs(values - columns["ideal_circuit"]).max()) for name, values in columns.items()}
    rows.append({"E/V0": "max |T - ideal|", **summary})
    table = write_report("hardware_rehearsal", rows, ["E/V0", *columns],
                         extra={"shots": args.shots, "program": program.fingerprint()})
    print(table)


if __name__ == "__main__":
    main()
