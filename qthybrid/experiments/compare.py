"""The same experiment under several activation backends and classical twins, in one table."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from .runner import _json, activation_curve, make_config_activation, run


def variants(config: dict, backends: list[str], baselines: list[str]) -> dict:
    """Name -> config: QT on each backend (``pennylane:DEVICE`` picks a device), then each baseline."""
    out = {}
    for spec in backends:
        backend, _, device = spec.partition(":")
        variant = copy.deepcopy(config)
        variant["activation"].update(name="qt", backend=backend)
        if device:
            variant["activation"]["device"] = device
        out[f"qt/{spec}"] = variant
    for name in baselines:
        variant = copy.deepcopy(config)
        variant["activation"]["name"] = name
        out[name] = variant
    return out


def compare(config: dict, backends: list[str], baselines: list[str], out_dir: str | Path,
            progress: bool | None = None) -> list[dict]:
    """Run every variant into ``out_dir/<variant>``; write compare.json, compare.md, activations.png."""
    from .config import validate

    out_dir = Path(out_dir)
    runs = variants(config, backends, baselines)
    for variant in runs.values():
        validate(variant)
    reference_curve = None
    rows, curves = [], {}
    for name, variant in runs.items():
        started = time.perf_counter()
        final = run(variant, out_dir / name.replace("/", "_").replace(":", "_"), progress=progress)
        z, h = activation_curve(make_config_activation(variant))
        curves[name] = (z, h)
        if reference_curve is None:          # the first QT backend's curve is the reference
            reference_curve = h
        metric = "test_accuracy" if "test_accuracy_mean" in final else "mse"
        rows.append({"variant": name, "metric": metric, "value": final[f"{metric}_mean"],
                     "value_std": final[f"{metric}_std"], "loss": final.get("loss_mean", ""),
                     "seconds_per_epoch": final["seconds_per_epoch"], "total_seconds": time.perf_counter() - started,
                     "max_abs_dT_vs_first": float(np.max(np.abs(h - reference_curve)))
                     if name.startswith("qt/") else ""})
    _json(out_dir / "compare.json", rows)
    (out_dir / "compare.md").write_text(table(rows) + "\n")
    _plot(out_dir, curves)
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"| variant | {rows[0]['metric'].replace('_', ' ')} | s/epoch | total s | max abs dT vs first QT |",
             "|---|---|---|---|---|"]
    for r in rows:
        dT = r["max_abs_dT_vs_first"]
        lines.append(f"| {r['variant']} | {r['value']:.4g} ± {r['value_std']:.2g} | "
                     f"{r['seconds_per_epoch']:.3f} | {r['total_seconds']:.1f} | "
                     f"{dT if dT == '' else f'{dT:.2e}'} |")
    return "\n".join(lines)


def _plot(out_dir: Path, curves: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (z, h) in curves.items():
        ax.plot(z, h, label=name)
    ax.set(xlabel="pre-activation z", ylabel="activation h(z)", title="activation curves compared")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "activations.png", dpi=110)
    plt.close(fig)
