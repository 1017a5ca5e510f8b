"""Sweeps on Ray: every (variant, seed) of ``qthybrid run`` and ``qthybrid compare`` is one Ray task.

    qthybrid compare examples/demo.toml --backends analytic --baselines relu --executor ray
    qthybrid run examples/demo.toml --out runs/demo --executor ray --ray-address auto

**What a task does.** It trains one seed of one variant with :func:`~qthybrid.experiments.runner.run`
into that seed's own run directory, ``<run directory>/seeds/<seed>/`` (checkpoint after every
epoch), and sends the directory's files back. When every seed of a variant is back, the driver
writes the variant's run directory as a local run does: ``config.json``, ``environment.json``,
``metrics.csv``/``metrics.json``, ``final.json``, ``training.png``, ``activation.png``/``.csv`` and
``checkpoint.pt`` (the last seed's model, optimiser and random states with every seed's history),
then removes ``seeds/``.

**Same numbers as the local run.** A seed's training does not depend on the other seeds, so
only the number of torch threads can change its floating-point results (matrix products sum in
another order). Each task therefore uses as many torch threads as a local run on the driver's
machine (``torch.get_num_threads()`` there) and declares that many CPUs to Ray (at most the CPUs
of the largest node, where Ray counts fewer, e.g. in a container): the metrics are then those of
the local run, bit for bit. ``cpus_per_task`` sets another number (e.g. 1, to run
as many tasks at once as there are cores); the results are then those of a local run with that
many threads (``OMP_NUM_THREADS=1 qthybrid ...``), which differ from the default run's in
rounding, and after many epochs possibly in a test sample or two.

**Resources.** CPUs as above; one GPU when the QT activation's circuit backend runs on one
(statevector or Aer on a cluster that has GPUs, PennyLane's ``*.gpu`` devices). Work no node can
hold (more CPUs or GPUs per task than the largest node has) is refused before it starts.

**Resume.** A killed driver takes its tasks with it; the same command with ``--resume`` finishes
the run: variants whose run directory is complete are kept, seeds whose directory holds a
finished run are not trained again, and the others continue from their last checkpoint.
**Failures.** A task that fails is reported with its error in one line as it happens; the other
tasks go on and their results are kept, and at the end :class:`SweepError` lists every failure
(``--resume`` then trains only what is missing).

**Progress.** One line for the whole sweep (tasks done / running / failed / waiting, the latest
event), redrawn on a terminal; in a log one line per task start, epoch and end, each with the
counts. Tasks post their epochs to a small Ray actor the driver reads every second.

**Clusters.** Every node needs qthybrid (and the data sets its configs name) installed. The files
come back to the driver, so results need no shared filesystem; resuming a seed from its
checkpoint does: put ``--out`` on a filesystem every node mounts at the same path.
"""

from __future__ import annotations

import io
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import variant_name
from .progress import LIVE_TICK, PLAIN_TICK, Progress, _format_seconds, make_progress
from .runner import SWEEP_STAGING as STAGING
from .runner import (_check_memory, _check_run_directory, _final, _json, _plot_training, _write_metrics,
                     atomic_write, load_checkpoint, run)


class SweepError(RuntimeError):
    """Some tasks of a sweep failed; the message names each with its error. The others' results are saved."""


@dataclass
class _Variant:
    name: str
    config: dict
    out_dir: Path
    files: dict = field(default_factory=dict)      # seed (str) -> {file name: bytes} of its finished run
    seconds: float = 0.0                           # summed wall time of its tasks in this sweep
    final: dict | None = None

    @property
    def seeds(self) -> list:
        return [str(seed) for seed in self.config["experiment"]["seeds"]]


@dataclass
class _Task:
    variant: _Variant
    seed: str
    state: str = "waiting"                         # waiting, running, done, failed
    epochs: int = 0
    error: str = ""


def local_threads() -> int:
    """The torch threads a local run uses on this machine."""
    import torch

    return torch.get_num_threads()


def needs_gpu(config: dict, cluster_gpus: float) -> bool:
    """Whether a task of this variant asks Ray for a GPU: its QT activation's circuit backend runs on one."""
    from ..backends import backend_class
    from ..backends.distributed import runs_on_gpu

    activation = config["activation"]
    if activation["name"] != "qt" or activation["backend"] == "analytic":
        return False
    device = activation["device"] if activation["backend"] == "pennylane" else "auto"
    return runs_on_gpu(backend_class(activation["backend"]).capabilities, device, cluster_gpus)


def _seed_config(config: dict, seed: str) -> dict:
    single = json.loads(json.dumps(config))
    single["experiment"]["seeds"] = [int(seed)]
    return single


def _finished_files(directory: Path) -> dict | None:
    """The files of a finished one-seed run directory (it has final.json), else None."""
    if not (directory / "final.json").is_file():
        return None
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}


class _Inbox:
    """The sweep's progress events, posted by the tasks; a Ray actor that holds no CPU."""

    def __init__(self):
        self.events = []

    def post(self, event) -> None:
        self.events.append(event)

    def take(self) -> list:
        events, self.events = self.events, []
        return events


class _Events(Progress):
    """A task's progress events, posted to the driver's inbox without waiting (a task that waited in
    ``ray.get`` would lend its CPUs to another task); a lost event never fails the task."""

    def __init__(self, inbox, variant: str, seed: str):
        super().__init__(stream=io.StringIO(), mode="off")
        self._inbox, self._key, self._last = inbox, (variant, seed), None

    def _send(self, kind: str, **data) -> None:
        try:
            self._last = self._inbox.post.remote((self._key, kind, data))
        except Exception:
            pass

    def delivered(self) -> None:
        """Wait until every event is in the inbox (posts from one task arrive in order), so the driver
        reads a task's last epoch before its result."""
        import ray

        try:
            if self._last is not None:
                ray.get(self._last, timeout=30)
        except Exception:
            pass

    def message(self, text: str) -> None:
        self._send("message", text=text)

    def task(self, experiment, variant, seed, epochs, done=0, note=""):
        self._send("task", epochs=epochs, done=done, note=note)

    def epoch(self, epoch, record):
        self._send("epoch", epoch=epoch, record=record)

    def finish(self, record=None):
        pass                                       # the task's result says it ended


def _train_seed(config: dict, variant: str, seed: str, directory: str, threads: int, inbox) -> dict:
    """On a worker: one seed of one variant, trained (or resumed from its checkpoint) by ``run``."""
    import torch

    torch.set_num_threads(threads)
    directory = Path(directory)
    if directory.is_dir() and not (directory / "config.json").is_file():
        shutil.rmtree(directory)                    # stopped before its first file: nothing to keep
    started = time.perf_counter()
    events = _Events(inbox, variant, seed)
    run(config, directory, resume=(directory / "config.json").is_file(), progress=events, variant=variant)
    events.delivered()
    return {"files": _finished_files(directory), "seconds": time.perf_counter() - started, "host": platform.node()}


def _error_line(exc: BaseException) -> str:
    """A task's error in one line: the original exception raised on the worker, else Ray's own error."""
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError) and isinstance(getattr(exc, "cause", None), BaseException):
        cause = exc.cause
        text = " ".join(str(cause).split()) or type(cause).__name__
        return f"{type(cause).__name__}: {text}"[:400]
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:400]


def _merged_checkpoint(path: Path, history: dict) -> bytes:
    """The checkpoint at ``path`` (the last seed's) with every seed's history, as a local run ends with it."""
    import torch

    state = load_checkpoint(path)
    state["history"] = history
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _finalize(variant: _Variant) -> dict:
    """Write the variant's run directory from its seeds' files, as the local run writes it."""
    config, out_dir = variant.config, variant.out_dir
    history = {seed: json.loads(variant.files[seed]["metrics.json"]) for seed in variant.seeds}
    last = variant.files[variant.seeds[-1]]
    _write_metrics(out_dir, history)
    for name in ("environment.json", "activation.png", "activation.csv"):
        if name in last:
            atomic_write(out_dir / name, last[name])
    if config["experiment"]["model"] != "esn":      # the esn has no epochs: no checkpoint, no training figure
        atomic_write(out_dir / "checkpoint.pt", last["checkpoint.pt"])
        atomic_write(out_dir / "checkpoint.pt", _merged_checkpoint(out_dir / "checkpoint.pt", history))
        _plot_training(out_dir, history, config, variant.name)
    final = _final(history)
    _json(out_dir / "final.json", final)            # last: a run directory with final.json is complete
    shutil.rmtree(out_dir / STAGING, ignore_errors=True)
    return final


def _prepare(name: str, config: dict, out_dir: Path, resume: bool) -> _Variant:
    """Checks before any work (as a local run makes them), then what is already done of this variant."""
    _check_memory(config)
    _check_run_directory(out_dir, config, resume)
    variant = _Variant(name, config, out_dir)
    staging = out_dir / STAGING
    if not resume:
        _json(out_dir / "config.json", config)
        return variant
    if (out_dir / "final.json").is_file():           # finished (final.json is written last)
        shutil.rmtree(staging, ignore_errors=True)
        variant.final = json.loads((out_dir / "final.json").read_text())
        return variant
    if (out_dir / "checkpoint.pt").is_file() and not staging.is_dir():
        raise ValueError(f"--resume: {out_dir} was started by the local executor (its checkpoint holds one "
                         f"seed at a time): resume it without --executor ray")
    for seed in variant.seeds:
        files = _finished_files(staging / seed)
        if files is not None:
            variant.files[seed] = files
    return variant


class _Report:
    """The driver's view of the sweep, shown through a Progress (see the module docstring)."""

    def __init__(self, progress: Progress, experiment: str, tasks: list):
        self.progress, self.experiment, self.tasks = progress, experiment, tasks
        self.started = time.perf_counter()
        self.latest = "waiting for the first task to start"
        self.last_line = self.started

    def counts(self) -> str:
        states = [task.state for task in self.tasks]
        return (f"tasks: {states.count('done')}/{len(states)} done, {states.count('running')} running, "
                f"{states.count('failed')} failed, {states.count('waiting')} waiting")

    def _name(self, task: _Task) -> str:
        return f"[{self.experiment}] {task.variant.name} seed {task.seed}"

    @staticmethod
    def _metrics(record: dict) -> str:
        return ", ".join(Progress._metrics(record))        # as the local run's lines name them

    def event(self, task: _Task, kind: str, data: dict) -> None:
        if task.state in ("done", "failed"):      # posted before the task ended, read after its result
            return
        if task.state == "waiting":
            task.state = "running"
        if kind == "message":
            self._line(f"{self._name(task)}: {data['text'].split(': ')[-1]}")
        elif kind == "task":
            task.epochs = data["epochs"]
            done = f" epoch {data['done']}/{data['epochs']}" if data["epochs"] else ""
            self._line(f"{self._name(task)}{done}: started ({data['note'] or 'starting'})")
        elif kind == "epoch":
            record = data["record"]
            seconds = f", {record['seconds']:.2g} s/epoch" if "seconds" in record else ""
            self._line(f"{self._name(task)} epoch {data['epoch']}/{task.epochs}: {self._metrics(record)}{seconds}")

    def done(self, task: _Task, result: dict) -> None:
        task.state = "done"
        records = json.loads(result["files"]["metrics.json"])
        self._kept(f"{self._name(task)} done: {self._metrics(records[-1])}, {_format_seconds(result['seconds'])} "
                   f"on {result['host']}")

    def failed(self, task: _Task, error: str) -> None:
        task.state = "failed"
        self._kept(f"{self._name(task)} failed: {error}")

    def variant_done(self, variant: _Variant) -> None:
        self._kept(f"[{self.experiment}] {variant.name}: every seed done, run directory {variant.out_dir}")

    def _kept(self, text: str) -> None:
        """A line that stays on screen (a task's end), then the sweep's line."""
        self.latest = text.split("] ", 1)[-1]
        self.progress.message(f"{text} · {self.counts()}" if self.progress.mode == "plain" else text)
        if self.progress.mode == "live":
            self.tick()
        self.last_line = time.perf_counter()

    def _line(self, text: str) -> None:
        """An epoch or a start: a line of its own in a log, the sweep line's latest event on a terminal."""
        self.latest = text.split("] ", 1)[-1]
        if self.progress.mode == "plain":
            self.progress.status(f"{text} · {self.counts()}")
            self.last_line = time.perf_counter()
        else:
            self.tick()

    def tick(self) -> None:
        """Redraw the sweep line (a terminal), or repeat it in a log when nothing was written for a while."""
        now = time.perf_counter()
        elapsed = _format_seconds(now - self.started)
        if self.progress.mode == "live":
            self.progress.status(f"[{self.experiment}] {self.counts()} ({elapsed}) · {self.latest}")
        elif now - self.last_line >= PLAIN_TICK:
            self.progress.status(f"[{self.experiment}] still running after {elapsed} · {self.counts()}")
            self.last_line = now


def run_sweep(runs: dict, progress=None, address: str | None = None, cpus_per_task: int | None = None) -> dict:
    """Train every seed of every variant as one Ray task; write each variant's run directory.

    ``runs``: variant name -> (config, run directory, resume). ``address``: the Ray cluster
    (see :func:`qthybrid.backends.distributed.connect`). ``cpus_per_task``: torch threads and CPUs
    of each task (None: those of a local run, so the results are the local run's).
    Returns variant name -> (final metrics, seconds its tasks took in this sweep); raises
    :class:`SweepError` after every task ended when some failed.
    """
    from ..backends.distributed import connect, import_ray

    import_ray()                                    # not installed: say so before any work
    if cpus_per_task is not None and (isinstance(cpus_per_task, bool) or not isinstance(cpus_per_task, int)
                                      or cpus_per_task < 1):
        raise ValueError(f"cpus_per_task must be None or an int >= 1, got {cpus_per_task!r}")
    progress = make_progress(progress)
    variants = [_prepare(name, config, Path(out_dir).resolve(), resume)
                for name, (config, out_dir, resume) in runs.items()]
    todo = [_Task(variant, seed) for variant in variants if variant.final is None
            for seed in variant.seeds if seed not in variant.files]
    threads = cpus_per_task or local_threads()
    experiment = variants[0].config["experiment"]["name"]
    ray, started = connect(address) if todo else (None, False)
    try:
        if todo:
            _run_tasks(ray, todo, threads, cpus_per_task is not None, progress, experiment)
        failed = [task for task in todo if task.state == "failed"]
        for variant in variants:
            if variant.final is None and len(variant.files) == len(variant.seeds):
                variant.final = _finalize(variant)
    finally:
        if started:
            ray.shutdown()
    if failed:
        raise SweepError(f"{len(failed)} of {len(todo)} tasks failed: "
                         + "; ".join(f"{task.variant.name} seed {task.seed} ({task.error})" for task in failed)
                         + ". The other tasks' results are saved: run the same command with --resume to train "
                           "only what is missing")
    return {variant.name: (variant.final, variant.seconds) for variant in variants}


def _run_tasks(ray, todo: list, threads: int, asked: bool, progress: Progress, experiment: str) -> None:
    """Submit one task per (variant, seed) with ``threads`` torch threads (``asked``: set by the user), report
    progress, finalise each variant when its seeds are back; failed tasks are marked, not raised."""
    from ..backends.distributed import cluster_resources

    resources = cluster_resources(ray)
    largest = int(resources["largest_node_CPU"])
    if asked and threads > largest:
        raise ValueError(f"--cpus-per-task {threads}: each task needs {threads} CPUs but the largest Ray node has "
                         f"{largest}: pass --cpus-per-task {max(largest, 1)} or fewer")
    cpus = max(1, min(threads, largest))    # a node that counts fewer CPUs than torch sees threads still runs it
    gpus = {task.variant.name: needs_gpu(task.variant.config, resources["GPU"]) for task in todo}
    if any(gpus.values()) and resources["largest_node_GPU"] < 1:
        names = ", ".join(sorted(name for name, gpu in gpus.items() if gpu))
        raise ValueError(f"{names} runs on a GPU, but no Ray node has one")
    seeds_done = sum(len(variant.files) for variant in {id(t.variant): t.variant for t in todo}.values())
    progress.message(f"[{experiment}] ray: {len(todo)} tasks (one per variant and seed"
                     + (f"; {seeds_done} seeds already done" if seeds_done else "") + f") on "
                     f"{resources['nodes']} node(s) with {resources['CPU']:g} CPUs and {resources['GPU']:g} GPUs; "
                     f"each task {cpus} CPU(s)" + (f" ({threads} torch threads)" if cpus != threads else "")
                     + (" and 1 GPU where its backend uses one" if any(gpus.values()) else ""))
    inbox = ray.remote(_Inbox).options(num_cpus=0).remote()
    remote = ray.remote(_train_seed)
    pending = {}
    for task in todo:
        directory = task.variant.out_dir / STAGING / task.seed
        ref = remote.options(num_cpus=cpus, num_gpus=1 if gpus[task.variant.name] else 0).remote(
            _seed_config(task.variant.config, task.seed), task.variant.name, task.seed, str(directory), threads,
            inbox)
        pending[ref] = task
    by_key = {(task.variant.name, task.seed): task for task in todo}
    report = _Report(progress, experiment, todo)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=LIVE_TICK)
            events = [(by_key[key], kind, data) for key, kind, data in ray.get(inbox.take.remote())]
            for task, kind, data in events:             # epochs of running tasks first ...
                if task.state != "waiting":
                    report.event(task, kind, data)
            starts = [(task, kind, data) for task, kind, data in events if task.state == "waiting"]
            for ref in ready:
                task = pending.pop(ref)
                for event in [e for e in starts if e[0] is task]:    # started and ended within this second
                    report.event(*event)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    task.error = _error_line(exc)
                    report.failed(task, task.error)
                    continue
                variant = task.variant
                variant.files[task.seed] = result["files"]
                variant.seconds += result["seconds"]
                report.done(task, result)
                if len(variant.files) == len(variant.seeds):
                    variant.final = _finalize(variant)
                    report.variant_done(variant)
            for task, kind, data in starts:             # ... then the tasks that took the freed CPUs
                report.event(task, kind, data)
            report.tick()
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        ray.kill(inbox)


def run_on_ray(config: dict, out_dir, resume: bool = False, progress=None, variant: str | None = None,
               address: str | None = None, cpus_per_task: int | None = None) -> dict:
    """:func:`~qthybrid.experiments.runner.run` with each seed a Ray task; returns the same final metrics."""
    variant = variant or variant_name(config)
    return run_sweep({variant: (config, out_dir, resume)}, progress, address, cpus_per_task)[variant][0]


__all__ = ["STAGING", "SweepError", "run_sweep", "run_on_ray", "local_threads", "needs_gpu"]
