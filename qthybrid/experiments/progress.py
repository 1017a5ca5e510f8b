"""What an experiment is doing right now: one line per running task (experiment, variant, seed, epoch, metric).

Two ways to show it, picked from the output stream:

- **live** (the stream is a terminal): the running task's line is redrawn in place after every
  epoch and kept when the task (one seed of one variant) ends, so the screen holds one line per
  task. Lines are cut to the terminal's width; a terminal that reports no width counts as 80
  columns, so nothing wraps and nothing is redrawn out of place.
- **plain** (a file or a pipe): one complete line per event (task start, every epoch, task end),
  flushed at once, so a log shows what runs as it runs.

While a step takes long (simulating an activation curve can take minutes), the line says how long
it has been running: redrawn every second on a terminal, repeated every 30 s in a log.

``Progress(mode="off")`` (the CLI's ``--quiet``) prints nothing. The module imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
import threading
import time

LIVE_TICK = 1.0        # s: a live line that waits is redrawn with its waiting time this often
PLAIN_TICK = 30.0      # s: a log gets a "still running" line this often while nothing else happens

_METRIC_NAMES = {"test_accuracy": "test acc", "train_accuracy": "train acc", "mse": "mse", "test_entropy": "entropy"}


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _format_waiting(seconds: float) -> str:
    """Whole seconds, so a line redrawn every second does not flicker: "12 s", "1 min 20 s"."""
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def headline_metric(record: dict) -> tuple[str, float] | None:
    """The metric a record is judged by: test accuracy for classifiers, mse for the esn."""
    for key in ("test_accuracy", "mse"):
        if key in record:
            return key, record[key]
    return None


class Progress:
    """Reports tasks, epochs and messages to ``stream`` (default: standard output).

    ``mode``: "auto" (live on a terminal, plain otherwise), "live", "plain" or "off".
    """

    def __init__(self, stream=None, mode: str = "auto"):
        if mode not in ("auto", "live", "plain", "off"):
            raise ValueError(f"mode must be 'auto', 'live', 'plain' or 'off', got {mode!r}")
        self.stream = sys.stdout if stream is None else stream
        if mode == "auto":
            # a terminal that cannot move the cursor back (TERM=dumb) gets the plain log too
            mode = "live" if _isatty(self.stream) and os.environ.get("TERM") != "dumb" else "plain"
        self.mode = mode
        self._status = ""               # the live line currently drawn (empty: none)
        self._task = None               # (experiment, variant, seed, epochs)
        self._task_started = 0.0
        self._epoch_seconds: list[float] = []
        self._head, self._body = "", ""  # the running task's latest line: "[demo] qt/analytic seed 0 epoch 3/15", rest
        self._last_event = 0.0          # when the task last reported (perf_counter)
        self._last_output = 0.0         # when a line about it was last written
        self._lock = threading.RLock()  # the ticker thread writes too
        self._ticker = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    # -- output -------------------------------------------------------------------------------------
    def message(self, text: str) -> None:
        """A line that stays (a header, a note); in live mode it goes above the running task's line."""
        if not self.enabled:
            return
        with self._lock:
            if self.mode == "live":
                status = self._status
                self._clear()
                self._write(text + "\n")             # a permanent line may wrap; only the live line must not
                if status:
                    self._draw(status)
            else:
                self._write(text + "\n")

    def task(self, experiment: str, variant: str, seed: int, epochs: int, done: int = 0, note: str = "") -> None:
        """A task starts: one seed of one variant; ``done`` epochs are already there (resume)."""
        with self._lock:
            self._task = (experiment, variant, seed, epochs)
            self._task_started = time.perf_counter()
            self._epoch_seconds = []
            what = f" epoch {done}/{epochs}" if epochs else ""      # epochs = 0: one fit, no epochs (esn)
            self._show(self._prefix() + what, note or "starting")
            self._start_ticker()

    def epoch(self, epoch: int, record: dict) -> None:
        """An epoch of the running task ended; ``record`` holds its loss, seconds and metrics."""
        with self._lock:
            if self._task is not None:
                self._epoch(epoch, record)

    def _epoch(self, epoch: int, record: dict) -> None:
        epochs = self._task[3]
        seconds = record.get("seconds")
        if seconds is not None:
            self._epoch_seconds.append(seconds)
        parts = self._metrics(record)
        if self._epoch_seconds:
            per_epoch = sum(self._epoch_seconds) / len(self._epoch_seconds)
            parts.append(f"{per_epoch:.2g} s/epoch")
            if epoch < epochs:
                parts.append(f"~{_format_seconds(per_epoch * (epochs - epoch))} left")
        self._show(f"{self._prefix()} epoch {epoch}/{epochs}", ", ".join(parts))

    def finish(self, record: dict | None = None) -> None:
        """The running task ended; its last line stays on screen."""
        with self._lock:
            if self._task is None:
                return
            elapsed = time.perf_counter() - self._task_started
            parts = self._metrics(record or {}) + [f"{_format_seconds(elapsed)}"]
            line = f"{self._prefix()} done: " + ", ".join(parts)
            if self.mode == "live":
                self._clear()
                self._write(self._fit(line) + "\n")
            elif self.mode == "plain":
                self._write(line + "\n")
            self._task = None

    def status(self, text: str) -> None:
        """A line about the whole sweep (tasks done / running / failed) that replaces the previous one:
        redrawn in place when live, written as a line when plain. Used when several tasks run at once."""
        if not self.enabled:
            return
        with self._lock:
            if self.mode == "live":
                self._draw(text)
            else:
                self._write(text + "\n")

    def close(self) -> None:
        """Stop reporting: end a live line that is still drawn (an interrupted task)."""
        with self._lock:
            self._task = None                    # the ticker thread sees it and stops
            if self.mode == "live" and self._status:
                self._write("\n")
                self._status = ""

    # -- the ticker: says how long a quiet step has been running -----------------------------------
    def _start_ticker(self) -> None:
        if self.mode == "off" or (self._ticker is not None and self._ticker.is_alive()):
            return
        self._ticker = threading.Thread(target=self._tick, name="qthybrid-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        interval = LIVE_TICK if self.mode == "live" else PLAIN_TICK
        while True:
            time.sleep(min(interval, 1.0))
            with self._lock:
                if self._task is None:
                    return                       # the task ended: the thread ends with it
                now = time.perf_counter()
                waiting = now - self._last_event
                if waiting < interval or now - self._last_output < interval:
                    continue
                line = f"{self._head} (running {_format_waiting(waiting)}): {self._body}"
                if self.mode == "live":
                    self._draw(line)
                else:
                    self._write(line + "\n")
                self._last_output = now

    # -- helpers ------------------------------------------------------------------------------------
    def _prefix(self) -> str:
        experiment, variant, seed, _ = self._task
        return f"[{experiment}] {variant} seed {seed}"

    @staticmethod
    def _metrics(record: dict) -> list[str]:
        parts = []
        headline = headline_metric(record)
        if headline is not None:
            name, value = headline
            parts.append(f"{_METRIC_NAMES.get(name, name)} {value:.4g}")
        if "loss" in record:
            parts.append(f"loss {record['loss']:.3g}")
        return parts

    def _show(self, head: str, body: str) -> None:
        self._head, self._body = head, body
        self._last_event = self._last_output = time.perf_counter()
        line = f"{head}: {body}"
        if self.mode == "live":
            self._draw(line)
        elif self.mode == "plain":
            self._write(line + "\n")

    def _draw(self, line: str) -> None:
        self._clear()
        self._status = self._fit(line)
        self._write(self._status)

    def _clear(self) -> None:
        if self._status:
            self._write("\r\x1b[K")
            self._status = ""

    def _fit(self, line: str) -> str:
        width = _terminal_width(self.stream)
        return line if len(line) < width else line[:max(width - 2, 1)] + "…"

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except UnicodeEncodeError:                      # a stream that cannot take "·" or "…"
            self.stream.write(text.replace("·", "-").replace("…", "...").encode("ascii", "replace").decode())
            self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width(stream) -> int:
    """Columns of the terminal behind ``stream``; 80 where it reports none (0) or cannot be asked."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    if columns <= 0:
        try:
            columns = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            columns = 0
    return columns if columns > 0 else 80


def make_progress(progress, stream=None) -> Progress:
    """A Progress from the ``progress=`` argument of run/compare: a Progress, True/None (auto) or False (off)."""
    if isinstance(progress, Progress):
        return progress
    return Progress(stream=sys.stderr if stream is None else stream, mode="off" if progress is False else "auto")
