"""Ray for qthybrid: joining a cluster, and one backend call's programs spread over Ray tasks.

A program backend created with ``executor="ray"``::

    backend = qthybrid.get_backend("statevector", executor="ray")              # a new local Ray instance
    backend = qthybrid.get_backend("aer", executor="ray", ray_address="auto")  # a running cluster

spreads the programs of every :meth:`~qthybrid.backends.Backend.execute` call (and so every
``transmission`` sweep, which executes its programs in one call) over Ray tasks. Each task runs
the same backend class with the same options (``executor="local"``) on a worker and returns its
:class:`~qthybrid.programs.ProgramResult` list; the driver puts the pieces back in order, so the
results are those of a local execution (exact probabilities agree to rounding; tested to 1e-12).

How a call is split: a program whose batch holds many rows (the kicks of a SplitOperatorProgram,
e.g. the energies of a packet sweep; the potential rows of a ChainProgram) is cut into programs
holding a slice of the rows (``with_kicks``, ``with_potential``); the pieces are then dealt, in
order, to ``ray_tasks`` tasks of about equal cost (rows x steps x 2^qubits). ``ray_tasks=None``
makes one task per CPU of the cluster (per GPU when the backend runs on GPUs). Each task declares
1 CPU, 1 GPU when the backend runs on one (``device`` "cuda", "GPU", a PennyLane "*.gpu" device,
or "auto" on a cluster that has GPUs), and ``max_memory_mb`` of memory when that option is set;
the memory budget applies to each task on its own worker, which is what lets a sweep larger than
one machine's memory run.

With ``shots`` each task samples with its own seed, drawn from ``seed`` and the task's index:
reproducible for the same split, statistically the same as a local run, but not the same draws.

Ray is imported only here and only when asked for (the ``distributed`` extra:
``pip install "qthybrid[distributed]"``). Every node needs qthybrid installed.
"""

from __future__ import annotations

import logging
import os

import numpy as np

#: The executors a program backend (and ``qthybrid run``/``compare``) accepts.
EXECUTORS = ("local", "ray")


def import_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError("the ray executor needs Ray: pip install 'qthybrid[distributed]' "
                          "(or pip install ray)") from None
    return ray


def connect(address: str | None = None):
    """Initialise Ray in this process; returns ``(ray, started)``.

    ``address``: None starts a new local Ray instance (``RAY_ADDRESS`` when that is set);
    ``"auto"`` joins the cluster running on this machine; ``"HOST:PORT"`` or
    ``"ray://HOST:10001"`` joins that cluster. When Ray is already initialised in this process,
    that session is used as it is and ``started`` is False (the caller leaves it running).
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    target = address or os.environ.get("RAY_ADDRESS") or "local"
    try:
        ray.init(address=target, include_dashboard=False, logging_level=logging.WARNING,
                 configure_logging=True)
    except ConnectionError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectionError(f"cannot join a Ray cluster at {target!r}: {first} (start one with "
                              f"'ray start --head', or leave out the address to start a local instance)") from None
    return ray, True


def cluster_resources(ray) -> dict:
    """{"CPU": total, "GPU": total, "largest_node_CPU": ..., "largest_node_GPU": ..., "nodes": n} of live nodes."""
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    return {"CPU": sum(n.get("CPU", 0) for n in nodes), "GPU": sum(n.get("GPU", 0) for n in nodes),
            "largest_node_CPU": max((n.get("CPU", 0) for n in nodes), default=0),
            "largest_node_GPU": max((n.get("GPU", 0) for n in nodes), default=0), "nodes": len(nodes)}


def runs_on_gpu(capabilities, device, cluster_gpus: float) -> bool:
    """Whether a backend with ``capabilities`` and ``device`` option runs on a GPU (and a task must ask for one).

    Explicit GPU devices ("cuda", "cuda:N", Aer's "GPU", PennyLane's "lightning.gpu") do; "auto"
    does where the cluster has GPUs; anything else runs on CPUs.
    """
    if not getattr(capabilities, "gpu", False) or not isinstance(device, str):
        return False
    if device == "auto":
        return cluster_gpus > 0
    return device == "GPU" or device.startswith("cuda") or device.endswith(".gpu")


def _cost(program, rows: int) -> float:
    """Rough work of ``rows`` batch rows of a program: rows x steps x 2^qubits."""
    return rows * max(getattr(program, "steps", 1), 1) * 2.0**program.num_qubits


def _splittable(program) -> bool:
    return hasattr(program, "with_kicks") or hasattr(program, "with_potential")


def _row_slices(programs, tasks: int) -> list:
    """(program index, first row, end row) pieces: each program's rows cut into about its share of ``tasks``."""
    costs = np.array([_cost(p, p.batch_size) for p in programs])
    pieces = []
    for index, (program, cost) in enumerate(zip(programs, costs)):
        share = int(np.ceil(tasks * cost / costs.sum())) if _splittable(program) else 1
        count = int(min(program.batch_size, max(1, share)))
        bounds = np.linspace(0, program.batch_size, count + 1).round().astype(int)
        pieces += [(index, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    return pieces


def split(programs, tasks: int) -> list:
    """The pieces of ``programs`` dealt, in order, to at most ``tasks`` lists of about equal cost."""
    pieces = _row_slices(programs, tasks)
    cost = np.array([_cost(programs[i], b - a) for i, a, b in pieces])
    # piece k goes to the task whose share of the cumulative cost holds the piece's midpoint
    middle = (np.cumsum(cost) - cost / 2) / cost.sum()
    owner = np.minimum((middle * tasks).astype(int), tasks - 1)
    return [[pieces[k] for k in np.flatnonzero(owner == t)] for t in range(tasks) if np.any(owner == t)]


def _piece_program(program, first: int, end: int):
    """Rows first..end-1 of a program's batch, as a program."""
    if (first, end) == (0, program.batch_size):
        return program
    if hasattr(program, "with_kicks"):
        return program.with_kicks(program.kicks[first:end])
    return program.with_potential(program.potential[first:end])


def _execute_pieces(backend_class, options: dict, programs: list) -> list:
    """On a worker: the same backend, executing locally."""
    return backend_class(**options).execute(programs)


_REMOTE = {}


def execute_on_ray(backend, programs: list, options) -> list:
    """``backend.execute(programs)`` with the programs spread over Ray tasks (see the module docstring).

    ``programs``: checked SplitOperatorProgram list; ``options``: the call's Options (overrides applied).
    """
    from ..programs import ProgramResult

    ray, _ = connect(options.ray_address)
    resources = cluster_resources(ray)
    gpu = runs_on_gpu(backend.capabilities, options.get("device"), resources["GPU"])
    slots = int(resources["GPU"] if gpu else resources["CPU"]) or 1
    groups = split(programs, options.ray_tasks or slots)
    local = {**options, "executor": "local", "ray_address": None, "ray_tasks": None}
    task = _REMOTE.setdefault("execute", ray.remote(_execute_pieces)).options(
        num_cpus=1, num_gpus=1 if gpu else 0,
        **({"memory": options.max_memory_mb * 2**20} if options.get("max_memory_mb") else {}))
    refs = []
    for number, group in enumerate(groups):
        chunk = dict(local)
        if options.get("shots") is not None and options.get("seed") is not None:
            chunk["seed"] = int(np.random.SeedSequence([options.seed, number]).generate_state(1)[0])
        refs.append(task.remote(type(backend), chunk, [_piece_program(programs[i], a, b) for i, a, b in group]))
    try:
        outcomes = ray.get(refs)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        raise (cause if isinstance(cause, Exception) else RuntimeError(str(exc).splitlines()[0])) from None
    parts = {}
    for group, results in zip(groups, outcomes):
        for (index, _, _), result in zip(group, results):
            parts.setdefault(index, []).append(result)
    merged = []
    for index in range(len(programs)):
        pieces = parts[index]
        metadata = {**pieces[0].metadata, "executor": "ray", "ray_tasks": len(groups), "ray_pieces": len(pieces)}
        merged.append(ProgramResult(np.concatenate([p.probabilities for p in pieces]), shots=pieces[0].shots,
                                    metadata=metadata))
    return merged


__all__ = ["EXECUTORS", "import_ray", "connect", "cluster_resources", "runs_on_gpu", "split", "execute_on_ray"]
