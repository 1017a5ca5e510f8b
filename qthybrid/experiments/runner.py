"""Running one experiment into a run directory, with per-epoch checkpoints and ``resume``.

A run directory holds ``config.json`` (resolved), ``environment.json``,
``metrics.csv`` / ``metrics.json`` (per seed and epoch), ``final.json``,
``training.png`` and ``activation.png``. After every epoch ``checkpoint.pt``
(model, optimiser and random-generator states, history) is replaced
atomically, so a killed run resumes where it stopped and ends with the same
metrics as an uninterrupted one.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import config as config_module


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, path)


def _json(path: Path, payload) -> None:
    atomic_write(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())


def environment() -> dict:
    import torch

    info = {"python": platform.python_version(), "platform": platform.platform(), "torch": torch.__version__,
            "device": "cuda" if torch.cuda.is_available() else "cpu", "threads": torch.get_num_threads()}
    for module in ("qiskit", "qiskit_aer", "pennylane", "numpy"):
        if module in sys.modules:
            info[module] = sys.modules[module].__version__
    return info


def load_data(config: dict):
    """(X_train, y_train, X_test, y_test) as tensors."""
    import torch

    from ..data import load_digits, load_idx_images

    experiment = config["experiment"]
    if experiment["data"] == "digits":
        X_train, X_test, y_train, y_test = load_digits(seed=0)
    else:
        directory = experiment["data_dir"] or None
        X_train, y_train = load_idx_images(experiment["data"], "train", directory)
        X_test, y_test = load_idx_images(experiment["data"], "test", directory)
    limit = config["model"]["train_limit"]
    if limit:
        X_train, y_train = X_train[:limit], y_train[:limit]
    return tuple(torch.as_tensor(a) for a in (X_train, y_train, X_test, y_test))


def build_model(config: dict, n_in: int, n_out: int):
    from ..models import FeedForward
    from ..physics import Barrier

    activation = config["activation"]
    options = {}
    if activation["name"] == "qt":
        options = {"ampl": activation["ampl"], "barrier": Barrier(activation["V0"], activation["g"]),
                   "backend": activation["backend"]}
        if activation["backend"] != "analytic":
            backend_options = {"preset": activation["preset"]}
            if activation["backend"] == "pennylane":
                backend_options["device"] = activation["device"]
            options["backend_options"] = backend_options
    return FeedForward(n_in, config["model"]["hidden"], n_out, activation=activation["name"], init_std=None,
                       **options)


def run(config: dict, out_dir: str | Path, resume: bool = False, progress: bool | None = None) -> dict:
    """Train every seed of ``config`` into ``out_dir``; returns the final metrics."""
    import torch

    from ..models import accuracy, train_epoch

    out_dir = Path(out_dir)
    checkpoint_path = out_dir / "checkpoint.pt"
    if out_dir.exists() and any(out_dir.iterdir()) and not resume:
        raise FileExistsError(f"{out_dir} already holds a run: pass --resume to continue it or choose --out")
    if resume and (out_dir / "config.json").exists():
        saved = json.loads((out_dir / "config.json").read_text())
        if saved != json.loads(json.dumps(config)):
            raise config_module.ConfigError(f"--resume: the config differs from the one {out_dir} was started with")
    _json(out_dir / "config.json", config)
    _json(out_dir / "environment.json", environment())
    X_train, y_train, X_test, y_test = load_data(config)
    n_out = int(max(y_train.max(), y_test.max())) + 1
    experiment, hyper = config["experiment"], config["model"]
    state = torch.load(checkpoint_path, weights_only=False) if resume and checkpoint_path.exists() else None
    history = state["history"] if state else {}
    show = sys.stderr.isatty() if progress is None else progress
    from tqdm import tqdm

    for seed in experiment["seeds"]:
        key = str(seed)
        records = history.setdefault(key, [])
        if len(records) >= experiment["epochs"]:
            continue
        torch.manual_seed(seed)
        model = build_model(config, X_train.shape[1], n_out)
        optimiser = torch.optim.SGD(model.parameters(), lr=hyper["lr"])
        generator = torch.Generator().manual_seed(seed)
        if state is not None and state.get("seed") == seed:
            model.load_state_dict(state["model"])
            optimiser.load_state_dict(state["optimiser"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
        bar = tqdm(range(len(records) + 1, experiment["epochs"] + 1), disable=not show,
                   desc=f"seed {seed}", unit="epoch")
        for epoch in bar:
            start = time.perf_counter()
            loss = train_epoch(model, optimiser, X_train, y_train, batch_size=hyper["batch_size"],
                               clip_norm=hyper["clip_norm"] or None, generator=generator)
            records.append({"seed": seed, "epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start,
                            "train_accuracy": accuracy(model, X_train, y_train),
                            "test_accuracy": accuracy(model, X_test, y_test)})
            bar.set_postfix(loss=f"{loss:.4f}", test=f"{records[-1]['test_accuracy']:.4f}")
            buffer = tempfile.SpooledTemporaryFile()
            torch.save({"seed": seed, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                        "history": history}, buffer)
            buffer.seek(0)
            atomic_write(checkpoint_path, buffer.read())
        state = None
        _write_metrics(out_dir, history)
        _plot_activation(out_dir, model)
    final = _final(history)
    _json(out_dir / "final.json", final)
    _plot_training(out_dir, history)
    return final


def _write_metrics(out_dir: Path, history: dict) -> None:
    rows = [r for records in history.values() for r in records]
    _json(out_dir / "metrics.json", rows)
    with tempfile.NamedTemporaryFile("w", dir=out_dir, delete=False, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(handle.name, out_dir / "metrics.csv")


def _final(history: dict) -> dict:
    last = [records[-1] for records in history.values()]
    accuracies = [r["test_accuracy"] for r in last]
    return {"seeds": len(last), "test_accuracy_mean": statistics.mean(accuracies),
            "test_accuracy_std": statistics.pstdev(accuracies), "loss_mean": statistics.mean(r["loss"] for r in last),
            "seconds_per_epoch": statistics.median(r["seconds"] for rs in history.values() for r in rs),
            "per_seed": {seed: records[-1] for seed, records in history.items()}}


def _plot_training(out_dir: Path, history: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for seed, records in history.items():
        epochs = [r["epoch"] for r in records]
        left.plot(epochs, [r["loss"] for r in records], label=f"seed {seed}")
        right.plot(epochs, [r["test_accuracy"] for r in records], label=f"seed {seed}")
    left.set(xlabel="epoch", ylabel="training loss")
    right.set(xlabel="epoch", ylabel="test accuracy")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "training.png", dpi=110)
    plt.close(fig)


def activation_curve(model, z=None):
    """(z, h(z)) of the model's activation on a fixed grid of pre-activations."""
    import torch

    z = torch.linspace(-1, 10, 400, dtype=torch.float64) if z is None else z
    with torch.no_grad():
        return z.numpy(), model.activation(z).double().numpy()


def _plot_activation(out_dir: Path, model) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z, h = activation_curve(model)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(z, h)
    ax.set(xlabel="pre-activation z", ylabel="h(z)", title=repr(model.activation)[:60])
    fig.tight_layout()
    fig.savefig(out_dir / "activation.png", dpi=110)
    plt.close(fig)
    np.savetxt(out_dir / "activation.csv", np.column_stack([z, h]), delimiter=",", header="z,h")
