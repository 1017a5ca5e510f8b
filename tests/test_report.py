"""Figures that show what they should (QT curves on their own axes, titles that fit, the variant named)
and the self-contained HTML report of a comparison."""

import base64
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from qthybrid.experiments import plots  # noqa: E402
from qthybrid.experiments.report import write_compare_report  # noqa: E402

Z = np.linspace(-1, 10, 400)
T = np.where(Z > 0, 1 - 1 / (1 + 5 * np.clip(Z, 0, None)), 0.0)          # a saturating QT-like curve
CURVES = {"qt/analytic": (Z, T), "qt/statevector": (Z, T + 0.05 * np.exp(-(Z - 0.3) ** 2 / 0.01)),
          "relu": (Z, np.maximum(Z, 0)), "tanh": (Z, np.tanh(Z))}
LONG_VARIANT = "qt/pennylane:lightning.qubit (accurate preset), V0=30\u00a0eV, g=0.5, ampl=10"


def _texts_inside(fig):
    """Titles, axis labels and legend entries of ``fig`` lie inside the figure (nothing is cut off at an edge)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bounds = fig.bbox
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += ax.get_legend().get_texts() if ax.get_legend() else []
    for text in texts:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        assert box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1, text.get_text()
        assert box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1, text.get_text()


def test_comparison_puts_qt_curves_on_their_own_axes_and_shows_the_difference():
    fig = plots.comparison_figure(CURVES, CURVES["qt/analytic"], "demo: activations compared, " + LONG_VARIANT)
    curves_ax, difference_ax, twins_ax = fig.axes
    assert curves_ax.get_ylim()[1] <= 1.1                                    # not squashed by ReLU's 10
    assert twins_ax.get_ylim()[1] >= 10                                      # ReLU on its own scale
    assert {line.get_label() for line in curves_ax.get_lines()} >= {"qt/analytic", "qt/statevector"}
    differences = [line for line in difference_ax.get_lines() if line.get_label().startswith("qt/statevector")]
    assert len(differences) == 1
    assert np.max(np.abs(differences[0].get_ydata())) == pytest.approx(0.05, abs=1e-3)
    assert "0.05" in differences[0].get_label()
    assert abs(np.diff(difference_ax.get_ylim())[0]) < 0.2                   # the 0.05 gap fills the panel
    _texts_inside(fig)


def test_without_a_circuit_backend_there_is_no_empty_difference_panel():
    curves = {name: CURVES[name] for name in ("qt/analytic", "relu")}
    fig = plots.comparison_figure(curves, CURVES["qt/analytic"], "demo")
    curves_ax, twins_ax = fig.axes
    assert curves_ax.get_ylim()[1] <= 1.1 and twins_ax.get_ylim()[1] >= 10


@pytest.mark.parametrize("make", [
    lambda title: plots.activation_figure(Z, T, title),
    lambda title: plots.training_figure({"0": [{"epoch": 1, "loss": 1.0, "test_accuracy": 0.5},
                                               {"epoch": 2, "loss": 0.5, "test_accuracy": 0.8}]}, title),
])
def test_long_titles_are_wrapped_not_cut(make):
    fig = make("demo: activation of " + LONG_VARIANT + " with backend='statevector' and more words")
    _texts_inside(fig)


def test_saved_figures_name_the_variant(tmp_path):
    from PIL import Image

    history = {"0": [{"epoch": 1, "loss": 1.0, "test_accuracy": 0.5}]}
    plots.plot_training(tmp_path / "training.png", history, "demo: qt/statevector (accurate preset), 1 seed")
    plots.plot_activation(tmp_path / "activation.png", Z, T, "demo: activation of qt/statevector")
    for name in ("training.png", "activation.png"):
        with Image.open(tmp_path / name) as image:
            assert "qt/statevector" in image.text["Title"], name


def _report(tmp_path, figures):
    rows = [{"variant": "qt/analytic", "metric": "test_accuracy", "value": 0.947, "value_std": 0.007, "loss": 0.2,
             "seconds_per_epoch": 1.5, "total_seconds": 70.0, "max_abs_dT_vs_first": 0.0},
            {"variant": "relu", "metric": "test_accuracy", "value": 0.929, "value_std": 0.011, "loss": 0.3,
             "seconds_per_epoch": 0.4, "total_seconds": 20.0, "max_abs_dT_vs_first": ""}]
    path = write_compare_report(tmp_path / "compare.html", "demo <&> compare", rows, figures,
                                {"seeds": "0, 1, 2"}, ["a note with <angle> & ampersand"])
    return path.read_text(encoding="utf-8")


def test_html_report_is_well_formed_and_self_contained(tmp_path):
    plots.plot_comparison(tmp_path / "activations.png", CURVES, CURVES["qt/analytic"], "demo")
    page = _report(tmp_path, [(tmp_path / "activations.png", "curves"), (tmp_path / "missing.png", "skipped")])
    assert page.startswith("<!DOCTYPE html>")
    root = ET.fromstring(page.split("\n", 1)[1])                             # well-formed XML after the doctype
    assert root.tag == "html"
    images = root.findall(".//img")
    assert len(images) == 1                                                  # the missing figure is skipped
    source = images[0].get("src")
    assert source.startswith("data:image/png;base64,")
    assert base64.b64decode(source.split(",", 1)[1]) == (tmp_path / "activations.png").read_bytes()
    assert not root.findall(".//script") and not root.findall(".//link")   # nothing to fetch
    assert all(not (e.get("src") or e.get("href") or "data:").startswith(("http", "//", "/")) for e in root.iter())
    cells = [[td.text for td in tr.findall("td")] for tr in root.findall(".//tbody/tr")]
    assert [c[0] for c in cells] == ["qt/analytic", "relu"] and cells[0][1] == "0.947 ± 0.007"
    assert root.find(".//h1").text == "demo <&> compare"                   # escaped, read back intact
