"""What the benchmark scripts share: seed lists on the command line, and one JSON file and one Markdown
table per run."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

#: Where figures go: benchmarks/results, or $QTHYBRID_BENCH_RESULTS (used by the tests).
RESULTS = Path(os.environ.get("QTHYBRID_BENCH_RESULTS", Path(__file__).resolve().parent / "results"))


def parse_seeds(text: str) -> list[int]:
    """``"42,0-9"`` -> [42, 0, 1, ..., 9]."""
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high) + 1)) if high else [int(low)]
    return seeds


def environment() -> dict:
    """Versions and machine facts worth keeping beside the figures."""
    import numpy

    info = {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor(), "numpy": numpy.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    for module in ("torch", "qiskit", "qiskit_aer", "pennylane"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            pass
    try:
        info["cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    return info


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_report(name: str, rows: list[dict], columns: list[str], extra: dict | None = None,
                 out_dir: Path = RESULTS) -> str:
    """Write ``<name>.json`` and ``<name>.md`` under ``out_dir``; return the Markdown table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown_table(rows, columns)
    payload = {"benchmark": name, "environment": environment(), "rows": rows, **(extra or {})}
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (out_dir / f"{name}.md").write_text(f"# {name}\n\n{table}\n")
    return table
