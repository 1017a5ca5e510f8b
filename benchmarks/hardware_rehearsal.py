"""The hardware preset against noisy fake IBM devices and Braket's local simulator: ideal, raw and mitigated T.

    python benchmarks/hardware_rehearsal.py [--shots 10000] [--devices fake_torino,fake_fez] [--seed 1]

For each energy: the continuum T, the chain's exact lattice T, the ideal circuit
(Aer, noiseless), and per fake device the Aer noise rehearsal (the one noisy
path: the device's best line of qubits, its noise with readout errors) read three
ways: raw (post-selected on one excitation only), readout-corrected (mthree) and
fully mitigated (readout + mitiq ZNE, the default); then Braket's local simulator
through ``submit("braket:local")`` (ideal, sampled). A second table gives the
shots and two-qubit gates each column needed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import write_report
import qthybrid
from qthybrid import Barrier, transmission
from qthybrid.programs import ProgramResult, scattering_preset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10_000)
    parser.add_argument("--devices", default="fake_torino,fake_fez")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    barrier = Barrier()
    design = scattering_preset("hardware", g=barrier.g)
    eps = np.array([0.3, 0.5, 1.0, 2.0, 3.0])
    E = eps * barrier.V0
    (program,) = design.programs(eps)
    columns = {"continuum": transmission(E, barrier), "lattice": design.lattice_transmission(eps),
               "ideal_circuit": qthybrid.get_backend("aer", preset="hardware").transmission(E, barrier)}
    costs = [{"column": "ideal_circuit", "shots per energy": "exact", "two-qubit gates per circuit":
              f"{2 * program.hop_count()} (XX+YY rotations x 2)", "seconds": ""}]
    for device in args.devices.split(","):
        started = time.perf_counter()
        result = qthybrid.get_backend("aer", preset="hardware", noise_backend=device, shots=args.shots,
                                      seed=args.seed).run_transmission(E, barrier)
        seconds = time.perf_counter() - started
        meta = result.metadata
        for label, key in (("raw", "unmitigated_probabilities"), ("readout", "readout_corrected_probabilities")):
            columns[f"{device}_{label}"] = design.transmission(eps, [ProgramResult(meta[key], shots=args.shots)])[0]
        columns[f"{device}_mitigated"] = result.transmission
        scales = meta["scale_factors"]
        costs.append({"column": f"{device} (raw, readout)", "shots per energy": args.shots,
                      "two-qubit gates per circuit": meta["two_qubit_gates"][0], "seconds": ""})
        costs.append({"column": f"{device}_mitigated", "shots per energy": args.shots * len(scales),
                      "two-qubit gates per circuit": " / ".join(map(str, meta["two_qubit_gates"])) +
                      f" (ZNE scales {', '.join(f'{s:g}' for s in scales)})", "seconds": round(seconds, 1),
                      "kept fraction": float(np.mean(meta["kept_fraction"]))})
    try:
        from qthybrid.hardware import JobJournal, submit

        journal = JobJournal(Path(tempfile.mkdtemp()) / "rehearsal_jobs.sqlite")
        record = submit(design, eps, "braket:local", shots=args.shots, journal=journal, wait=True)
        columns["braket_local"] = np.array(record.result["transmission"])
        costs.append({"column": "braket_local", "shots per energy": args.shots,
                      "two-qubit gates per circuit": f"{record.parameters['cost']['two_qubit_gates'] // len(eps)} "
                                                     f"(cnot)", "seconds": ""})
    except ImportError:
        pass
    rows = [{"E/V0": float(e), **{name: float(values[i]) for name, values in columns.items()}}
            for i, e in enumerate(eps)]
    summary = {name: float(np.abs(values - columns["ideal_circuit"]).max()) for name, values in columns.items()}
    rows.append({"E/V0": "max |T - ideal|", **summary})
    table = write_report("hardware_rehearsal", rows, ["E/V0", *columns],
                         extra={"shots": args.shots, "design": design.fingerprint(), "costs": costs,
                                "accuracy": design.accuracy()})
    cost_table = write_report("hardware_rehearsal_costs", costs,
                              ["column", "shots per energy", "two-qubit gates per circuit", "kept fraction", "seconds"])
    print(table)
    print()
    print(cost_table)


if __name__ == "__main__":
    main()
