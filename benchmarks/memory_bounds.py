"""Peak memory of the closed-form kernels: blocked (as shipped) against one pass over the whole input.

    python benchmarks/memory_bounds.py

Each measurement runs in a fresh process and reports its peak resident memory (ru_maxrss) above
what it held just before the call, with the input already allocated, so the figure is what the
call itself needs: output, temporaries. "one pass" sets the block sizes beyond the input size,
which is how the functions worked before they were blocked; it is skipped where it would need
more than a few GB.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _report import write_report

CHILD = """
import json, resource, sys, time
import numpy as np
from qthybrid import Barrier, dtransmission_dE, packet_transmission, transmission
transmission_module, packet = (sys.modules[f"qthybrid.physics.{name}"] for name in ("transmission", "packet"))

function_name, n, mode = sys.argv[1], int(float(sys.argv[2])), sys.argv[3]
if mode == "one pass":
    transmission_module.CHUNK_SIZE = packet._ENERGIES_PER_BLOCK = 1 << 62
function = {"transmission": transmission, "dtransmission_dE": dtransmission_dE,
            "packet_transmission": packet_transmission}[function_name]
E = np.linspace(0.0, 120.0, n)
function(E[:10], Barrier())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
function(E, Barrier())
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"peak_MB": peak / 1e6, "x_input": peak / E.nbytes, "seconds": seconds}))
"""

#: (function, energies, modes); one pass is left out where it would need several GB.
MEASUREMENTS = [
    ("transmission", 10**7, ("blocked", "one pass")),
    ("dtransmission_dE", 10**7, ("blocked", "one pass")),
    ("transmission", 10**8, ("blocked",)),
    ("packet_transmission", 2 * 10**4, ("blocked", "one pass")),
    ("packet_transmission", 10**6, ("blocked",)),
]


def measure(function: str, n: int, mode: str) -> dict:
    output = subprocess.run([sys.executable, "-c", CHILD, function, str(n), mode], capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    rows = []
    for function, n, modes in MEASUREMENTS:
        for mode in modes:
            result = measure(function, n, mode)
            rows.append({"function": function, "energies": f"{n:.0e}", "input MB": n * 8 / 1e6, "mode": mode,
                         "peak MB above start": result["peak_MB"], "x input": result["x_input"],
                         "seconds": result["seconds"]})
            print(rows[-1], flush=True)
    print(write_report("memory_bounds", rows, ["function", "energies", "input MB", "mode", "peak MB above start",
                                                "x input", "seconds"]))


if __name__ == "__main__":
    main()
