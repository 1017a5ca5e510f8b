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
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import config as config_module
from .progress import make_progress


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


def make_config_activation(config: dict):
    """The activation module a config asks for (QT with its barrier and backend, or a classical twin)."""
    from ..models import make_activation
    from ..physics import Barrier

    activation = config["activation"]
    if activation["name"] != "qt":
        return make_activation(activation["name"])
    options = {"ampl": activation["ampl"], "barrier": Barrier(activation["V0"], activation["g"]),
               "backend": activation["backend"]}
    if activation["backend"] != "analytic":
        backend_options = {"preset": activation["preset"]}
        if activation["backend"] == "pennylane":
            backend_options["device"] = activation["device"]
        options["backend_options"] = backend_options
    return make_activation("qt", **options)


class ImageClassification:
    """Feedforward or variational Bayesian net on digits / MNIST / Fashion-MNIST."""

    def __init__(self, config: dict):
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
        self.X_train, self.y_train, self.X_test, self.y_test = (
            torch.as_tensor(a) for a in (X_train, y_train, X_test, y_test))
        self.n_out = int(max(self.y_train.max(), self.y_test.max())) + 1
        self.config, self.bayesian = config, experiment["model"] == "bayesian"

    def build(self):
        from ..models import BayesianNet, FeedForward

        hidden, n_in = self.config["model"]["hidden"], self.X_train.shape[1]
        if self.bayesian:
            model = BayesianNet(n_in, hidden, self.n_out, activation="relu")
        else:
            model = FeedForward(n_in, hidden, self.n_out, activation="relu", init_std=None)
        model.activation = make_config_activation(self.config)   # the configured one replaces the placeholder
        return model

    def epoch(self, model, optimiser, generator) -> float:
        from ..models import bayesian_epoch, train_epoch

        hyper = self.config["model"]
        if self.bayesian:
            return bayesian_epoch(model, optimiser, self.X_train, self.y_train, batch_size=hyper["batch_size"],
                                  generator=generator)
        return train_epoch(model, optimiser, self.X_train, self.y_train, batch_size=hyper["batch_size"],
                           clip_norm=hyper["clip_norm"] or None, generator=generator)

    def evaluate(self, model) -> dict:
        from ..models import accuracy

        if not self.bayesian:
            return {"train_accuracy": accuracy(model, self.X_train, self.y_train),
                    "test_accuracy": accuracy(model, self.X_test, self.y_test)}
        samples = self.config["model"]["samples"]
        probabilities, entropy = model.predict(self.X_test, samples=samples)
        return {"test_accuracy": float((probabilities.argmax(1) == self.y_test).float().mean()),
                "test_entropy": float(entropy.mean())}


class Sentiment:
    """The many-to-one recurrent net on the toy sentiment set."""

    def __init__(self, config: dict):
        import torch

        from ..data import encode, load_sentiment

        train, test = load_sentiment()
        self.train = [(torch.as_tensor(encode(s)), int(label)) for s, label in train]
        self.test = [(torch.as_tensor(encode(s)), int(label)) for s, label in test]
        self.config = config

    def build(self):
        from ..data import VOCABULARY
        from ..models import RecurrentClassifier

        model = RecurrentClassifier(len(VOCABULARY), self.config["model"]["hidden"], 2, activation="tanh",
                                    init_scale=None)
        model.activation = make_config_activation(self.config)
        return model

    def epoch(self, model, optimiser, generator) -> float:
        from ..models import sequence_epoch

        return sequence_epoch(model, optimiser, self.train, clip=self.config["model"]["clip_norm"] or None,
                              generator=generator)

    def evaluate(self, model) -> dict:
        from ..models import sequence_accuracy

        return {"train_accuracy": sequence_accuracy(model, self.train),
                "test_accuracy": sequence_accuracy(model, self.test)}


TASKS = {"feedforward": ImageClassification, "bayesian": ImageClassification, "recurrent": Sentiment}


def _optimiser(config: dict, model):
    import torch

    kind = torch.optim.SGD if config["model"]["optimizer"] == "sgd" else torch.optim.Adam
    return kind(model.parameters(), lr=config["model"]["lr"])


def _run_esn(config: dict, out_dir: Path, progress, variant: str) -> dict:
    """The echo state network on the standard Mackey-Glass file: one fit and a 500-step free run per seed (no
    epochs to resume). An int seed is the authors' ``np.random.seed``: seed 42 draws the paper's reservoir."""
    from ..data import load_mackey_glass
    from ..models import EchoStateNetwork

    activation, hyper = config["activation"], config["model"]
    data = load_mackey_glass()
    target = data[2001:2501]
    history = {}
    for seed in config["experiment"]["seeds"]:
        progress.task(config["experiment"]["name"], variant, seed, 0,
                      note="fitting the readout, then a 500-step free run")
        start = time.perf_counter()
        model = EchoStateNetwork(n_reservoir=hyper["hidden"], leak=hyper["leak"],
                                 spectral_radius=hyper["spectral_radius"], ridge=hyper["ridge"],
                                 activation=activation["name"], ampl=activation["ampl"], V0=activation["V0"],
                                 g=activation["g"], random_state=seed).fit(data[:2000, None], data[1:2001])
        mse = float(np.mean((model.generate(500, data[2000]) - target) ** 2))
        history[str(seed)] = [{"seed": seed, "epoch": 1, "mse": mse, "nmse": mse / float(np.var(target)),
                               "seconds": time.perf_counter() - start}]
        progress.finish(history[str(seed)][-1])
    return history


def _build_note(config: dict, resumed: bool) -> str:
    """What happens before the first epoch ends, for the progress line."""
    activation = config["activation"]
    note = "resuming from the checkpoint" if resumed else "building the model"
    if activation["name"] == "qt" and activation["backend"] != "analytic":
        note += f", simulating the activation curve ({activation['backend']}, {activation['preset']} preset; cached)"
    return note


class CheckpointError(ValueError):
    """A run's checkpoint cannot be loaded safely: corrupt, truncated, or holding more than tensors and plain data."""


_CHECKPOINT_KEYS = {"seed", "model", "optimiser", "generator", "torch_rng", "history"}


def load_checkpoint(path: Path) -> dict:
    """A checkpoint written by :func:`run`, loaded with ``torch.load(weights_only=True)``.

    Only tensors and plain containers/numbers/strings are unpickled, so a crafted file cannot run
    code; anything else (and any corrupt or truncated file) raises CheckpointError.
    """
    import torch

    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:   # torch raises UnpicklingError, RuntimeError, EOFError, ... depending on the damage
        text = str(exc)
        if "Unsupported global" in text:     # the file names a Python callable: what a crafted pickle does
            name = text.split("Unsupported global:", 1)[1].split()[1] if "GLOBAL" in text else "an object"
            raise CheckpointError(f"{path} refers to {name}, not only tensors and plain data: loading it could run "
                                  f"code, so it is refused (delete it to restart the run)") from None
        reason = text.split("WeightsUnpickler error:")[-1].split("Check the documentation")[0]
        reason = " ".join(reason.split())[:160] or type(exc).__name__
        raise CheckpointError(f"{path} is corrupt or truncated ({reason}); delete it to restart the run from its "
                              f"first epoch") from None
    missing = _CHECKPOINT_KEYS - set(state) if isinstance(state, dict) else _CHECKPOINT_KEYS
    if missing:
        raise CheckpointError(f"{path} is not a qthybrid checkpoint (it lacks {', '.join(sorted(missing))})")
    return state


#: Input features per data set (the sentiment task's are its vocabulary, about 20 words).
_FEATURES = {"digits": 64, "mnist": 784, "fashion-mnist": 784, "sentiment": 32, "mackey-glass": 1}


def estimated_memory_bytes(config: dict) -> int:
    """Rough peak memory (bytes) of one seed's model: its largest arrays times the copies training keeps.

    Feedforward and recurrent nets: float32 weights with their gradients, optimiser state and
    checkpoint copy (x6; x12 for the Bayesian net's means and spreads). ESN: the dense float64
    reservoir with the copies its spectral radius and ridge solve need (x4), and its 2000 states.
    """
    hidden, n_in = config["model"]["hidden"], _FEATURES.get(config["experiment"]["data"], 784)
    model = config["experiment"]["model"]
    if model == "esn":
        return 8 * (4 * hidden * hidden + 2600 * hidden)
    weights = (n_in + hidden + 16) * hidden if model == "recurrent" else (n_in + 16) * hidden
    return 4 * weights * (12 if model == "bayesian" else 6)


def _available_memory_bytes() -> int | None:
    """Memory available to a new allocation: MemAvailable (Linux, page cache included), else free pages."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(config: dict) -> None:
    """Refuse, before any work, a model whose arrays cannot fit in the memory available now."""
    available = _available_memory_bytes()
    if available is None:   # not reported on this platform: no check
        return
    needed = estimated_memory_bytes(config)
    if needed > available:
        raise config_module.ConfigError(
            f"model.hidden = {config['model']['hidden']} needs about {needed / 2**30:.3g} GiB for the "
            f"{config['experiment']['model']} model's arrays; {available / 2**30:.3g} GiB is available now")


def _check_run_directory(out_dir: Path, config: dict, resume: bool) -> None:
    """Refuse, before any work, seeds or a run directory that cannot hold this run (the message says why)."""
    seeds = config["experiment"]["seeds"]
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise config_module.ConfigError(f"experiment.seeds repeats {repeated}: every seed is one run, so give "
                                        f"distinct seeds")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"the run directory {out_dir} is a file, not a directory: choose another --out")
    if resume:
        if not (out_dir / "config.json").is_file():
            raise FileNotFoundError(f"--resume: {out_dir} holds no run to continue (no config.json there): check "
                                    f"the path, or leave out --resume to start a new run")
        try:
            saved = json.loads((out_dir / "config.json").read_text())
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"--resume: {out_dir / 'config.json'} cannot be read: {exc}") from None
        if saved != json.loads(json.dumps(config)):
            raise config_module.ConfigError(f"--resume: the config differs from the one {out_dir} was started with")
    elif out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} already holds a run: pass --resume to continue it or choose --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise type(exc)(f"cannot write the run directory {out_dir}: {exc.strerror or exc}") from None


#: The folder of a run directory where ``--executor ray`` trains each seed in its own run directory
#: (qthybrid.experiments.sweep), removed when every seed is done.
SWEEP_STAGING = "seeds"


def run(config: dict, out_dir: str | Path, resume: bool = False, progress=None, variant: str | None = None) -> dict:
    """Train every seed of ``config`` into ``out_dir``; returns the final metrics.

    ``progress``: a :class:`~qthybrid.experiments.progress.Progress`, or True/None (report on
    standard error, live on a terminal) or False (silent). ``variant``: the name shown in progress
    lines and figure titles (default: from the config, e.g. "qt/statevector").
    """
    out_dir = Path(out_dir)
    _check_memory(config)
    _check_run_directory(out_dir, config, resume)
    if resume and (out_dir / SWEEP_STAGING).is_dir() and not (out_dir / "final.json").is_file():
        raise ValueError(f"--resume: {out_dir} was started with --executor ray (its seeds are in "
                         f"{out_dir / SWEEP_STAGING}): resume it with --executor ray")
    progress = make_progress(progress)
    variant = variant or config_module.variant_name(config)
    experiment = config["experiment"]
    epochs = "one fit each" if experiment["model"] == "esn" else f"{experiment['epochs']} epochs each"
    progress.message(f"[{experiment['name']}] {variant} seeds {', '.join(map(str, experiment['seeds']))} "
                     f"({epochs}): loading torch and the data")
    import torch

    checkpoint_path = out_dir / "checkpoint.pt"
    _json(out_dir / "config.json", config)
    _json(out_dir / "environment.json", environment())
    if experiment["model"] == "esn":
        history = _run_esn(config, out_dir, progress, variant)
        _write_metrics(out_dir, history)
        _plot_activation(out_dir, make_config_activation(config), config, variant)
        final = _final(history)
        _json(out_dir / "final.json", final)
        return final
    state = load_checkpoint(checkpoint_path) if resume and checkpoint_path.exists() else None
    task = TASKS[experiment["model"]](config)
    history = state["history"] if state else {}
    for seed in experiment["seeds"]:
        records = history.setdefault(str(seed), [])
        if len(records) >= experiment["epochs"]:
            continue
        progress.task(experiment["name"], variant, seed, experiment["epochs"], done=len(records),
                      note=_build_note(config, resumed=bool(records)))
        torch.manual_seed(seed)
        model = task.build()
        optimiser = _optimiser(config, model)
        generator = torch.Generator().manual_seed(seed)
        if state is not None and state.get("seed") == seed:
            model.load_state_dict(state["model"])
            optimiser.load_state_dict(state["optimiser"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
        for epoch in range(len(records) + 1, experiment["epochs"] + 1):
            start = time.perf_counter()
            loss = task.epoch(model, optimiser, generator)
            records.append({"seed": seed, "epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start,
                            **task.evaluate(model)})
            progress.epoch(epoch, records[-1])
            buffer = tempfile.SpooledTemporaryFile()
            torch.save({"seed": seed, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                        "history": history}, buffer)
            buffer.seek(0)
            atomic_write(checkpoint_path, buffer.read())
        state = None
        _write_metrics(out_dir, history)
        _plot_activation(out_dir, model.activation, config, variant)
        progress.finish(records[-1])
    final = _final(history)
    _json(out_dir / "final.json", final)
    _plot_training(out_dir, history, config, variant)
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
    """Mean and spread (population std) over seeds of every metric of each seed's last record.

    A seed whose loss (or mse) became NaN or infinite is listed under ``diverged`` with the first
    such epoch (its loss mean is then NaN too); ``qthybrid run`` reports it and exits 1.
    """
    last = [records[-1] for records in history.values()]
    final = {"seeds": len(last),
             "seconds_per_epoch": float(np.median([r["seconds"] for rs in history.values() for r in rs])),
             "per_seed": {seed: records[-1] for seed, records in history.items()}}
    for key in last[0]:
        if key not in ("seed", "epoch", "seconds"):
            values = np.array([r[key] for r in last], dtype=float)
            final[f"{key}_mean"], final[f"{key}_std"] = float(np.mean(values)), float(np.std(values))
    diverged = []
    for seed, records in history.items():
        for record in records:
            bad = [key for key in ("loss", "mse") if key in record and not np.isfinite(record[key])]
            if bad:
                diverged.append({"seed": record["seed"], "epoch": record["epoch"], bad[0]: record[bad[0]]})
                break
    if diverged:
        final["diverged"] = diverged
    return final


def _plot_training(out_dir: Path, history: dict, config: dict, variant: str) -> None:
    from .plots import plot_training

    seeds = len(history)
    plot_training(out_dir / "training.png", history,
                  f"{config['experiment']['name']}: {config_module.describe_variant(config, variant)}, "
                  f"{seeds} seed{'s' if seeds != 1 else ''}")


def activation_curve(activation, z=None):
    """(z, h(z)) of an activation module on a fixed grid of pre-activations."""
    import torch

    z = torch.linspace(-1, 10, 400, dtype=torch.float64) if z is None else z
    with torch.no_grad():
        return z.numpy(), activation(z).double().numpy()


def _plot_activation(out_dir: Path, activation, config: dict, variant: str) -> None:
    from .plots import plot_activation

    z, h = activation_curve(activation)
    plot_activation(out_dir / "activation.png", z, h,
                    f"{config['experiment']['name']}: activation of {config_module.describe_variant(config, variant)}")
    np.savetxt(out_dir / "activation.csv", np.column_stack([z, h]), delimiter=",", header="z,h")
