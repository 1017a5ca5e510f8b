"""Progress reporting: what runs is shown on a terminal (of any width) and in a log; --quiet silences it."""

import io
import json
import os
import pty
import re
import subprocess
import sys
import time

import pytest

from qthybrid.experiments.progress import Progress

TINY = """
[experiment]
name = "tiny"
seeds = [0]
epochs = 2
[model]
hidden = 16
train_limit = 200
"""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _drive(progress):
    progress.message("header")
    progress.task("demo", "qt/statevector", 3, 2)
    progress.epoch(1, {"loss": 0.5, "seconds": 0.2, "test_accuracy": 0.91})
    progress.epoch(2, {"loss": 0.25, "seconds": 0.2, "test_accuracy": 0.93})
    progress.finish({"loss": 0.25, "test_accuracy": 0.93})


def test_plain_mode_writes_one_full_line_per_event():
    stream = io.StringIO()
    _drive(Progress(stream, mode="plain"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "header"
    assert lines[1].startswith("[demo] qt/statevector seed 3 epoch 0/2")
    assert lines[2].startswith("[demo] qt/statevector seed 3 epoch 1/2: test acc 0.91, loss 0.5")
    assert lines[3].startswith("[demo] qt/statevector seed 3 epoch 2/2: test acc 0.93")
    assert lines[4].startswith("[demo] qt/statevector seed 3 done: test acc 0.93") and len(lines) == 5
    assert "\r" not in stream.getvalue()


@pytest.mark.parametrize("columns, width", [("", 80), ("0", 80), ("40", 40)])
def test_live_mode_redraws_one_line_per_task_cut_to_the_terminal_width(monkeypatch, columns, width):
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("TERM", raising=False)
    stream = FakeTerminal()
    progress = Progress(stream)          # auto: a terminal, so live
    assert progress.mode == "live"
    _drive(progress)
    text = stream.getvalue()
    lines = text.split("\n")
    assert lines[0] == "header" and lines[-1] == ""
    assert len(lines) == 3, "the task must end as exactly one kept line"
    drawn = [segment.replace("\x1b[K", "") for segment in re.split(r"\r", text)]
    assert all(len(line) <= width for segment in drawn for line in segment.split("\n")), drawn
    assert "qt/statevector seed 3 epoch 1/2" in text
    assert lines[1].endswith(drawn[-1].split("\n")[0])    # the kept line is the task's summary
    assert "done" in lines[1].rsplit("\r", 1)[-1]


def test_off_mode_and_dumb_terminals(monkeypatch):
    stream = FakeTerminal()
    _drive(Progress(stream, mode="off"))
    assert stream.getvalue() == ""
    monkeypatch.setenv("TERM", "dumb")
    assert Progress(FakeTerminal()).mode == "plain"
    with pytest.raises(ValueError, match="mode must be"):
        Progress(mode="fancy")


@pytest.mark.parametrize("mode", ["plain", "live"])
def test_a_long_step_says_how_long_it_has_been_running(monkeypatch, mode):
    from qthybrid.experiments import progress as progress_module

    monkeypatch.setattr(progress_module, "PLAIN_TICK", 0.05)
    monkeypatch.setattr(progress_module, "LIVE_TICK", 0.05)
    monkeypatch.setenv("COLUMNS", "200")
    stream = FakeTerminal()
    progress = Progress(stream, mode=mode)
    progress.task("demo", "qt/statevector", 0, 15, note="simulating the activation curve")
    deadline = time.monotonic() + 60                 # a loaded machine may schedule the ticker late
    while "(running" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.finish()
    progress._ticker.join(timeout=10)
    assert not progress._ticker.is_alive()             # the ticker ends with its task
    text = stream.getvalue()
    assert re.search(r"\[demo\] qt/statevector seed 0 epoch 0/15 \(running \d+ s\): simulating the activation", text)
    assert text.rstrip("\n").rsplit("\n", 1)[-1].split("\r")[-1].replace("\x1b[K", "").startswith(
        "[demo] qt/statevector seed 0 done")         # nothing is written after the task ended


def _command(tmp_path, *args):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    return [sys.executable, "-m", "qthybrid.cli", *args[:1], str(config), "--out", str(tmp_path / "out"), *args[1:]]


def _environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm", QTHYBRID_CACHE_DIR=str(tmp_path / "cache"))
    return env


def test_a_terminal_without_a_width_shows_what_runs_from_the_start(tmp_path):
    """A pseudo-terminal of size 0 x 0 (what `script` gives without a real terminal)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(_command(tmp_path, "compare", "--backends", "analytic", "--baselines", "relu"),
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=_environment(tmp_path))
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:                      # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")
    text = b"".join(chunks).decode()
    lines = text.replace("\r\n", "\n").split("\n")
    assert lines[0].startswith("qthybrid compare: tiny"), lines[:3]
    head = "\n".join(lines[:6])
    assert "variant 1/2: qt/analytic" in head and "[tiny] qt/analytic seed 0 epoch 1/2: test acc" in head
    assert "[tiny] relu seed 0 done: test acc" in text
    for segment in re.split(r"[\r\n]", text):
        if "seed 0 epoch" in segment:         # live lines are cut to 80 columns, so they never wrap
            assert len(segment.replace("\x1b[K", "")) <= 80
    assert "compare.html" in text
    out = tmp_path / "out"                   # what the comparison left: the report and figures naming the variant
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == 3       # activations.png + two training.png
    from PIL import Image

    for variant, folder in (("qt/analytic", "qt_analytic"), ("relu", "relu")):
        for figure in ("training.png", "activation.png"):
            with Image.open(out / folder / figure) as image:
                assert variant in image.text["Title"], (folder, figure)


def test_a_non_terminal_gets_one_line_per_epoch_quiet_none_and_json_keeps_stdout(tmp_path, capsys, monkeypatch):
    from qthybrid.cli import main

    monkeypatch.setenv("QTHYBRID_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    assert main(["run", str(config), "--out", str(tmp_path / "plain")]) == 0    # captured: not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("qthybrid run: tiny (feedforward on digits), 1 seed(s) x 2 epochs")
    assert [line.split(":")[0] for line in lines if " epoch " in line] == [
        "[tiny] qt/analytic seed 0 epoch 0/2", "[tiny] qt/analytic seed 0 epoch 1/2",
        "[tiny] qt/analytic seed 0 epoch 2/2"]
    assert lines[-1].startswith("run directory:")

    assert main(["run", str(config), "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "seed 0" not in captured.out + captured.err
    assert captured.out.startswith("test accuracy ")

    assert main(["--json", "run", str(config), "--out", str(tmp_path / "json")]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["seeds"] == 1                          # standard output: the JSON alone
    assert "[tiny] qt/analytic seed 0 epoch 2/2" in captured.err             # progress moved to standard error


def test_inaccurate_preset_warns_with_the_measured_gap(capsys):
    from qthybrid.cli import main

    assert main(["curve", "--backends", "analytic,statevector", "--preset", "nisq", "--energies", "0.5,2"]) == 0
    captured = capsys.readouterr()
    warning = captured.err.strip()
    assert warning.startswith("qthybrid: warning: the nisq preset") and "\n" not in warning
    gap = float(re.search(r"by up to ([0-9.]+)", warning).group(1))
    rows = [line.split("|") for line in captured.out.splitlines()[2:]]
    assert gap == pytest.approx(max(abs(float(r[2]) - float(r[3])) for r in rows), abs=0.01)
    assert gap > 0.1
    assert main(["curve", "--backends", "analytic", "--preset", "nisq"]) == 0   # no circuit: nothing to warn about
    assert capsys.readouterr().err == ""
