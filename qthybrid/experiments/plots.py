"""The figures of a run and of a comparison (matplotlib, Agg backend: no display needed).

- ``training.png``: loss and the headline metric per epoch, one line per seed, titled with the
  experiment and the variant.
- ``activation.png``: the activation h(z) the run used, titled with the variant.
- ``activations.png`` (compare): the QT curves on their own axes (T lies in [0, 1]); when a
  circuit backend ran, their difference to the closed-form curve in a second panel (a 0.05 gap
  between two curves that overlap on the first panel is plain there); and the classical twins on
  a last panel with their own scale (ReLU reaches 10 and would squash the QT curves).

Titles are wrapped to the figure's width, so none is cut off.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

_LINESTYLES = ["-", "--", "-.", ":"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _wrap(text: str, figure_width_inches: float, fontsize: float) -> str:
    """``text`` broken into lines that fit a figure this wide (about 0.6 em per character, with a margin)."""
    characters = max(int(0.95 * figure_width_inches * 72 / (0.6 * fontsize)), 20)
    return "\n".join(textwrap.wrap(text, characters)) or text


def _save(fig, path: str | Path, title: str) -> None:
    """Write ``fig`` as PNG with its title also in the file's metadata (PNG "Title" text), then free it."""
    fig.savefig(path, dpi=110, metadata={"Title": title, "Software": "qthybrid"})
    _pyplot().close(fig)


def plot_training(path: str | Path, history: dict, title: str) -> None:
    """training.png: see :func:`training_figure`."""
    _save(training_figure(history, title), path, title)


def plot_activation(path: str | Path, z: np.ndarray, h: np.ndarray, title: str) -> None:
    """activation.png: see :func:`activation_figure`."""
    _save(activation_figure(z, h, title), path, title)


def plot_comparison(path: str | Path, curves: dict, reference: tuple | None, title: str) -> None:
    """activations.png: see :func:`comparison_figure`."""
    _save(comparison_figure(curves, reference, title), path, title)


def training_figure(history: dict, title: str):
    """Loss and headline metric per epoch for every seed of ``history`` ({seed: [record, ...]})."""
    plt = _pyplot()
    records = [r for rs in history.values() for r in rs]
    metric = next((k for k in ("test_accuracy", "mse") if records and k in records[0]), None)
    width = 9.0
    fig, (left, right) = plt.subplots(1, 2, figsize=(width, 3.8))
    for seed, rows in history.items():
        epochs = [r["epoch"] for r in rows]
        if rows and "loss" in rows[0]:
            left.plot(epochs, [r["loss"] for r in rows], marker=".", label=f"seed {seed}")
        if metric:
            right.plot(epochs, [r[metric] for r in rows], marker=".", label=f"seed {seed}")
    left.set(xlabel="epoch", ylabel="training loss", title="training loss")
    right.set(xlabel="epoch", ylabel=(metric or "metric").replace("_", " "),
              title=(metric or "metric").replace("_", " "))
    if history:
        right.legend(fontsize=7)
    fig.suptitle(_wrap(title, width, 11), fontsize=11)
    fig.tight_layout()
    return fig


def activation_figure(z: np.ndarray, h: np.ndarray, title: str):
    """The activation curve h(z) a run used."""
    plt = _pyplot()
    width = 5.5
    fig, ax = plt.subplots(figsize=(width, 3.8))
    ax.plot(z, h)
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.set(xlabel="pre-activation z", ylabel="h(z)")
    ax.set_title(_wrap(title, width, 10), fontsize=10)
    fig.tight_layout()
    return fig


def comparison_figure(curves: dict, reference: tuple | None, title: str):
    """The compare figure: QT curves, their difference to the closed form, and the classical twins.

    ``curves``: {variant name: (z, h)}, QT variants named "qt/..."; ``reference``: (z, h) of the
    closed-form (analytic) QT curve on the same z, or None.
    """
    plt = _pyplot()
    qt = {name: curve for name, curve in curves.items() if name.startswith("qt/")}
    twins = {name: curve for name, curve in curves.items() if not name.startswith("qt/")}
    colours = {name: f"C{i}" for i, name in enumerate(curves)}     # one colour per variant on every panel
    others = {name: curve for name, curve in qt.items() if name != "qt/analytic"}
    show_difference = reference is not None and bool(others)
    panels = 1 + show_difference + bool(twins)
    width = 4.6 * panels
    fig, axes = plt.subplots(1, panels, figsize=(width, 4.2), squeeze=False)
    axes = list(axes[0])
    curves_ax = axes.pop(0)

    if reference is not None:
        curves_ax.plot(*reference, color="black", lw=3.5, alpha=0.25, label="closed form (analytic)", zorder=1)
    for i, (name, (z, h)) in enumerate(qt.items()):
        curves_ax.plot(z, h, ls=_LINESTYLES[i % len(_LINESTYLES)], lw=1.4, color=colours[name], label=name,
                       zorder=2 + i)
    curves_ax.set(xlabel="pre-activation z", ylabel="T(ampl·z)", ylim=(-0.03, 1.05),
                  title="QT activation curves")
    curves_ax.legend(fontsize=7, loc="lower right")

    if show_difference:
        difference_ax = axes.pop(0)
        z_ref, h_ref = reference
        difference_ax.axhline(0, color="black", lw=0.8)
        for i, (name, (z, h)) in enumerate(others.items(), start=1):
            delta = np.asarray(h) - np.interp(z, z_ref, h_ref)
            difference_ax.plot(z, delta, ls=_LINESTYLES[i % len(_LINESTYLES)], lw=1.2, color=colours[name],
                               label=f"{name} (max |ΔT| = {np.max(np.abs(delta)):.2g})")
        difference_ax.legend(fontsize=7)
        difference_ax.set(xlabel="pre-activation z", ylabel="T − T analytic", title="difference to the closed form")

    if twins:
        twin_ax = axes.pop(0)
        if reference is not None:
            twin_ax.plot(*reference, color="black", lw=1.4, label="QT (analytic)")
        for i, (name, (z, h)) in enumerate(twins.items()):
            twin_ax.plot(z, h, ls=_LINESTYLES[(i + 1) % len(_LINESTYLES)], lw=1.2, color=colours[name], label=name)
        twin_ax.set(xlabel="pre-activation z", ylabel="h(z)", title="classical twins (own scale)")
        twin_ax.legend(fontsize=7)
    fig.suptitle(_wrap(title, width, 11), fontsize=11)
    fig.tight_layout()
    return fig
