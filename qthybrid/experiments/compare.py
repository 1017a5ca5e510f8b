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


def run_directory_name(variant: str) -> str:
    """The folder of a variant's run inside the comparison's folder: "qt/statevector" -> "qt_statevector"."""
    return variant.replace("/", "_").replace(":", "_")


def compare(config: dict, backends: list[str], baselines: list[str], out_dir: str | Path,
            progress=None, resume: bool = False, executor: str = "local", ray_address: str | None = None,
            cpus_per_task: int | None = None) -> list[dict]:
    """Run every variant into ``out_dir/<variant>``; write compare.json, compare.md, activations.png, compare.html.

    ``progress``: as for :func:`~qthybrid.experiments.runner.run`. ``resume``: continue the variants
    whose run directory holds a run, start the others. ``executor``: "local" (one variant after
    the other, here) or "ray" (every variant and seed a Ray task on ``ray_address``, with
    ``cpus_per_task``; see :mod:`qthybrid.experiments.sweep`): the same files and metrics.
    """
    from .config import validate
    from .progress import make_progress

    if executor not in ("local", "ray"):
        raise ValueError(f"executor must be 'local' or 'ray', got {executor!r}")
    progress = make_progress(progress)
    out_dir = Path(out_dir)
    runs = variants(config, backends, baselines)
    for variant in runs.values():
        validate(variant)
    directories = {name: out_dir / run_directory_name(name) for name in runs}
    resumes = {name: resume and (directory / "config.json").is_file() for name, directory in directories.items()}
    if executor == "ray":
        from .sweep import run_sweep

        swept = run_sweep({name: (runs[name], directories[name], resumes[name]) for name in runs}, progress,
                          ray_address, cpus_per_task)
    reference_curve = None
    rows, curves = [], {}
    for index, (name, variant) in enumerate(runs.items(), start=1):
        if executor == "ray":
            final, seconds = swept[name]        # seconds: its tasks' wall time summed
        else:
            progress.message(f"[{config['experiment']['name']}] variant {index}/{len(runs)}: {name}")
            started = time.perf_counter()
            final = run(variant, directories[name], resume=resumes[name], progress=progress, variant=name)
            seconds = time.perf_counter() - started
        z, h = activation_curve(make_config_activation(variant))
        curves[name] = (z, h)
        if reference_curve is None:          # the first QT backend's curve is the reference
            reference_curve = h
        metric = "test_accuracy" if "test_accuracy_mean" in final else "mse"
        rows.append({"variant": name, "metric": metric, "value": final[f"{metric}_mean"],
                     "value_std": final[f"{metric}_std"], "loss": final.get("loss_mean", ""),
                     "seconds_per_epoch": final["seconds_per_epoch"], "total_seconds": seconds,
                     "max_abs_dT_vs_first": float(np.max(np.abs(h - reference_curve)))
                     if name.startswith("qt/") else ""})
    _json(out_dir / "compare.json", rows)
    (out_dir / "compare.md").write_text(table(rows) + "\n")
    _plot(out_dir, config, curves)
    _report(out_dir, config, rows)
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


def _analytic_curve(config: dict):
    """(z, T) of the closed-form QT activation with the config's barrier: the reference of the figure."""
    reference = copy.deepcopy(config)
    reference["activation"].update(name="qt", backend="analytic")
    return activation_curve(make_config_activation(reference))


def _plot(out_dir: Path, config: dict, curves: dict) -> None:
    from .config import barrier_text
    from .plots import plot_comparison

    activation, experiment = config["activation"], config["experiment"]
    circuits = any(name.startswith("qt/") and name != "qt/analytic" for name in curves)
    preset = f"; circuit backends: {activation['preset']} preset" if circuits else ""
    plot_comparison(out_dir / "activations.png", curves, _analytic_curve(config),
                    f"{experiment['name']}: activations compared ({barrier_text(config)}{preset})")


def _report(out_dir: Path, config: dict, rows: list[dict]) -> None:
    from .config import barrier_text
    from .report import write_compare_report

    experiment, activation = config["experiment"], config["activation"]
    figures = [(out_dir / "activations.png", "Activation curves: QT backends, their difference to the closed form, "
                                            "and the classical twins on their own scale")]
    figures += [(out_dir / run_directory_name(r["variant"]) / "training.png", f"Training of {r['variant']}")
                for r in rows]
    facts = {"experiment": experiment["name"], "network": experiment["model"], "data": experiment["data"],
             "seeds": ", ".join(map(str, experiment["seeds"])), "epochs": str(experiment["epochs"]),
             "barrier": barrier_text(config).replace("\u00a0", " "),
             "circuit preset": activation["preset"], "folder": str(out_dir)}
    notes = ["max |ΔT| is measured against the first QT variant's activation curve on z in [-1, 10]."]
    if activation["preset"] != "accurate" and any(r["variant"].startswith("qt/") and r["variant"] != "qt/analytic"
                                                  for r in rows):
        notes.append(f"The {activation['preset']} preset is a small packet circuit, not an accurate T(E).")
    write_compare_report(out_dir / "compare.html", f"{experiment['name']}: compare", rows, figures, facts, notes)
