"""The ``qthybrid`` command (argparse; every heavy import happens inside a subcommand).

    qthybrid run CONFIG.toml [--out DIR] [--resume] [--quiet] [--executor local|ray] [--ray-address ADDRESS]
                 [--cpus-per-task N]
    qthybrid compare CONFIG.toml [--backends analytic,statevector] [--baselines relu] [--out DIR] [--resume]
                     [--quiet] [--executor local|ray] [--ray-address ADDRESS] [--cpus-per-task N]
    qthybrid curve [--backends analytic,statevector,aer] [--preset accurate] [--energies ...]
    qthybrid config schema | qthybrid config check CONFIG.toml
    qthybrid circuits export [--dir circuits]
    qthybrid circuits show PRESET [--target fake_torino] [--eps 1.0]
    qthybrid submit TARGET [--preset nisq] [--eps 0.5,1,2] [--shots 1000] [--yes] [--wait]
    qthybrid jobs list | qthybrid jobs fetch JOB_ID
    qthybrid anneal FUNCTION [--backend analytic|statevector|aer|pennylane] [--bounds=-5:5,-5:5]
    qthybrid bench [NAME ...]

Exit codes: 0 success, 1 the work failed, 2 bad arguments or configuration,
3 declined at the cost prompt.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DECLINED = 0, 1, 2, 3


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _emit(args, payload, table: str) -> None:
    print(json.dumps(payload, indent=2, default=str) if args.json else table)


def _run_dir(config: dict, out: str | None, kind: str) -> Path:
    import time

    return Path(out) if out else Path("runs") / f"{config['experiment']['name']}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


def _warn(text: str) -> None:
    print(f"qthybrid: warning: {text}", file=sys.stderr)


def _progress(args):
    """Progress lines on standard output, or standard error when --json owns standard output; none if --quiet."""
    from qthybrid.experiments.progress import Progress

    return Progress(stream=sys.stderr if args.json else sys.stdout, mode="off" if args.quiet else "auto")


def _warn_inaccurate_preset(preset: str, circuit_backends: list[str]) -> None:
    if preset == "nisq" and circuit_backends:
        _warn(f"the nisq preset is a 6-qubit packet circuit, not an accurate T(E): its activation "
              f"curve on {', '.join(circuit_backends)} differs from the exact T by up to about 0.5; "
              f"use preset = \"accurate\" for results")


def _check_executor(args) -> None:
    if args.executor == "local" and (args.ray_address is not None or args.cpus_per_task is not None):
        raise ValueError(f"{'--ray-address' if args.ray_address is not None else '--cpus-per-task'} needs "
                         f"--executor ray")


def cmd_run(args) -> int:
    from qthybrid.experiments import load, run

    _check_executor(args)
    config = load(args.config)
    if args.resume and not args.out:
        raise ValueError("--resume needs --out (the run directory to continue)")
    out = _run_dir(config, args.out, "run")
    activation, experiment = config["activation"], config["experiment"]
    if activation["name"] == "qt" and activation["backend"] != "analytic":
        _warn_inaccurate_preset(activation["preset"], [activation["backend"]])
    progress = _progress(args)
    progress.message(f"qthybrid run: {experiment['name']} ({experiment['model']} on {experiment['data']}), "
                     f"{len(experiment['seeds'])} seed(s) x {experiment['epochs']} epochs -> {out}")
    try:
        if args.executor == "ray":
            from qthybrid.experiments.sweep import run_on_ray

            final = run_on_ray(config, out, resume=args.resume, progress=progress, address=args.ray_address,
                               cpus_per_task=args.cpus_per_task)
        else:
            final = run(config, out, resume=args.resume, progress=progress)
    finally:
        progress.close()
    metric = "test_accuracy" if "test_accuracy_mean" in final else "mse"
    _emit(args, {"run_dir": str(out), **final},
          f"{metric.replace('_', ' ')} {final[metric + '_mean']:.4g} ± {final[metric + '_std']:.2g} over "
          f"{final['seeds']} seeds\nrun directory: {out}")
    if final.get("diverged"):
        where = ", ".join(f"seed {d['seed']} at epoch {d['epoch']}" for d in final["diverged"])
        print(f"qthybrid: error: training diverged (loss NaN or infinite: {where}); the metrics in "
              f"{out / 'final.json'} are not results: lower model.lr or set model.clip_norm", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_compare(args) -> int:
    from qthybrid.experiments import compare, load
    from qthybrid.experiments.compare import table

    _check_executor(args)
    config = load(args.config)
    if args.resume and not args.out:
        raise ValueError("--resume needs --out (the comparison folder to continue)")
    out = _run_dir(config, args.out, "compare")
    backends, baselines = args.backends.split(","), [b for b in args.baselines.split(",") if b]
    _warn_inaccurate_preset(config["activation"]["preset"], [b for b in backends if b.partition(":")[0] != "analytic"])
    progress = _progress(args)
    experiment = config["experiment"]
    names = [f"qt/{b}" for b in backends] + baselines
    progress.message(f"qthybrid compare: {experiment['name']} ({experiment['model']} on {experiment['data']}), "
                     f"{len(names)} variants ({', '.join(names)}) x {len(experiment['seeds'])} seed(s) x "
                     f"{experiment['epochs']} epochs -> {out}")
    try:
        rows = compare(config, backends, baselines, out, progress=progress, resume=args.resume,
                       executor=args.executor, ray_address=args.ray_address, cpus_per_task=args.cpus_per_task)
    finally:
        progress.close()
    _emit(args, {"run_dir": str(out), "rows": rows, "report": str(out / "compare.html")},
          table(rows) + f"\n\nsaved in {out}; open {out / 'compare.html'} in a browser for the table and figures")
    return EXIT_OK


def cmd_curve(args) -> int:
    import numpy as np

    import qthybrid
    from qthybrid import Barrier

    barrier = Barrier(V0=args.V0, g=args.g)
    eps = np.asarray(args.energies)
    with np.errstate(over="ignore"):
        E = eps * barrier.V0
    if not np.all(np.isfinite(E)):
        raise ValueError(f"--energies times --V0 overflows: E/V0 up to {np.max(eps):g} with V0 = {barrier.V0:g} eV")
    columns = {"analytic": qthybrid.transmission(E, barrier)}
    for name in args.backends.split(","):
        if name == "analytic":
            continue
        backend_name, _, device = name.partition(":")
        options = {"preset": args.preset}
        if device:
            options["device"] = device
        columns[name] = qthybrid.get_backend(backend_name, **options).transmission(E, barrier)
    circuit_columns = [name for name in columns if name != "analytic"]
    if args.preset == "nisq" and circuit_columns:
        worst = max(float(np.max(np.abs(np.asarray(columns[c]) - columns["analytic"]))) for c in circuit_columns)
        _warn(f"the nisq preset is a 6-qubit packet circuit, not an accurate T(E): here it differs "
              f"from the exact (analytic) T by up to {worst:.2f}; use --preset accurate for accurate values")
    lines = ["| E/V0 | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += [f"| {e:g} | " + " | ".join(f"{columns[c][i]:.6f}" for c in columns) + " |" for i, e in enumerate(eps)]
    _emit(args, {"eps": eps.tolist(), **{k: np.asarray(v).tolist() for k, v in columns.items()}}, "\n".join(lines))
    return EXIT_OK


def cmd_config_schema(args) -> int:
    from qthybrid.experiments.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_config_check(args) -> int:
    from qthybrid.experiments import load

    config = load(args.config)
    if args.json:
        print(json.dumps(config, indent=2))
    else:
        for section, values in config.items():
            print(f"[{section}]")
            print("\n".join(f"{key} = {json.dumps(value)}" for key, value in values.items()) + "\n")
        print(f"{args.config}: valid")
    return EXIT_OK


def cmd_circuits_export(args) -> int:
    from qthybrid.circuits.export import export_circuits

    manifest = export_circuits(args.dir)
    table = "\n".join(f"{e['file']}: {e['steps']} steps, {e['generic_basis']['two_qubit_gates']} two-qubit gates"
                      for e in manifest["circuits"])
    _emit(args, manifest, table + f"\nwrote {len(manifest['circuits'])} circuits and manifest.json to {args.dir}")
    return EXIT_OK


def _presets() -> tuple:
    from qthybrid.programs import PRESETS

    return PRESETS


def _sendable_design(preset: str):
    """The preset's design with one circuit per energy (the accurate preset's whole-curve bands are for
    simulators: its per-energy packets are sent instead)."""
    from qthybrid.programs import scattering_preset

    return scattering_preset(preset, sweep="packets" if preset == "accurate" else "auto")


def cmd_circuits_show(args) -> int:
    from qthybrid.circuits.export import circuit_costs

    program = _sendable_design(args.preset).programs([args.eps])[0]
    costs = circuit_costs(program, None if args.target == "generic" else args.target)
    _emit(args, costs, "\n".join(f"{k}: {v}" for k, v in costs.items()))
    return EXIT_OK


def cmd_submit(args) -> int:
    from qthybrid.hardware import submit

    def confirm(cost):
        print(f"cost: {cost}", file=sys.stderr)
        if args.yes:
            return True
        if not sys.stdin.isatty():
            print("not a terminal: pass --yes to send", file=sys.stderr)
            return False
        return input("send? [y/N] ").strip().lower() == "y"

    record = submit(_sendable_design(args.preset), args.eps, args.target, shots=args.shots,
                    confirm=confirm, wait=args.wait)
    if record is None:
        return EXIT_DECLINED
    _emit(args, record.__dict__, f"job {record.job_id}: {record.status}"
          + (f"\nT = {record.result['transmission']}" if record.result else ""))
    return EXIT_OK


def cmd_jobs(args) -> int:
    from qthybrid.hardware import JobJournal, fetch

    journal = JobJournal()
    if args.action == "list":
        records = journal.list()
        table = "\n".join(f"{r.job_id}  {r.provider}:{r.backend}  {r.status}"
                          + ("" if r.durable else "  (local: ended with its process)") for r in records) or "no jobs"
        _emit(args, [r.__dict__ for r in records], table)
        return EXIT_OK
    if not args.job_id:
        raise ValueError("jobs fetch needs a JOB_ID (see 'qthybrid jobs list')")
    record = fetch(args.job_id, journal)
    _emit(args, record.__dict__, f"job {record.job_id}: {record.status}\n{record.result}")
    return EXIT_OK


def _load_objective(spec: str):
    """A named test function, or ``module:function`` for any importable vectorised callable."""
    from qthybrid.annealer.objectives import FUNCTIONS

    if spec in FUNCTIONS:
        return FUNCTIONS[spec], [tuple(b) for b in FUNCTIONS[spec].bounds]
    if ":" not in spec:
        raise ValueError(f"unknown function {spec!r}; known: {', '.join(sorted(FUNCTIONS))}, or module:function")
    import importlib

    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} for the objective {spec!r}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ValueError(f"{module_name!r} has no function {name!r} (the objective {spec!r})")
    return function, None


def _parse_bounds(text: str):
    try:
        return [tuple(float(v) for v in pair.split(":")) for pair in text.split(",")]
    except ValueError:
        raise ValueError(f"--bounds must look like -5:5,-5:5, got {text!r}") from None


def cmd_anneal(args) -> int:
    import numpy as np

    from qthybrid import QDEAnnealer

    function, default_bounds = _load_objective(args.function)
    bounds = _parse_bounds(args.bounds) if args.bounds else default_bounds
    if bounds is None:
        raise ValueError("--bounds is required for a module:function objective")
    if args.dims is not None:
        bounds = [bounds[0]] * args.dims
    result = QDEAnnealer(backend=args.backend, seed=args.seed, maxfev=args.maxfev).minimize(function, bounds)
    payload = {"x": np.asarray(result.x).tolist(), "fun": result.fun, "nfev": result.nfev, "nit": result.nit,
               "success": bool(result.success), "method": result.method, "backend": result.backend,
               "message": result.message, "trajectory": result.trajectory}
    _emit(args, payload, f"x = {np.round(result.x, 8).tolist()}\nf = {result.fun:.10g}\nnfev = {result.nfev}"
                         f"  stages = {result.nit}  ({result.method}, {result.backend})\n"
                         f"success = {bool(result.success)}: {result.message}")
    return EXIT_OK


def cmd_bench(args) -> int:
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    if not folder.is_dir():
        raise FileNotFoundError("the benchmarks/ folder ships with the source tree; run from a checkout")
    names = args.names or ["activation_speed", "scattering_speed", "classifier", "hardware_rehearsal"]
    for name in names:
        script = folder / f"{name}.py"
        if not script.exists():
            raise ValueError(f"unknown benchmark {name!r}; known: "
                             f"{', '.join(sorted(p.stem for p in folder.glob('[!_]*.py')))}")
        if subprocess.run([sys.executable, str(script)], cwd=folder).returncode:
            return EXIT_FAILED
    return EXIT_OK


DESCRIPTION = """\
Quantum-tunnelling (QT) neural networks and the QDE annealer, computed in closed form or by
simulating a wave packet on a qubit register (torch statevector, Qiskit Aer, PennyLane), and
sent to quantum hardware (IBM, Amazon Braket)."""

EPILOG = """\
examples:
  qthybrid compare examples/demo.toml --backends analytic --baselines relu
      QT net vs its ReLU twin on scikit-learn's digits; writes runs/demo-compare-*/compare.html
  qthybrid run examples/demo.toml --out runs/demo      train one config; --resume continues it
  qthybrid curve --backends analytic,statevector      T(E) of the circuit beside the exact T
  qthybrid config schema                              the JSON schema of experiment files
  qthybrid anneal rastrigin                           minimise a test function with the QDE annealer
  qthybrid submit ibm:fake_torino --shots 2000 --wait rehearse a hardware job offline

exit codes (every error is one line on standard error; --debug adds the traceback):
  0    done
  1    the work failed (a run, a backend or a provider raised an error)
  2    bad arguments or configuration (the line names the argument or key)
  3    declined at the cost prompt (submit)
  130  interrupted (Ctrl-C)

run and compare report what runs (variant, seed, epoch, metric) on standard output, or on
standard error with --json: one line redrawn per task on a terminal, one line per epoch
otherwise. --quiet silences it. Run 'qthybrid COMMAND --help' for a command's options."""

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _command(commands, name: str, summary: str, description: str = "", epilog: str = ""):
    return commands.add_parser(name, help=summary, description=description or summary, epilog=epilog,
                               formatter_class=_FORMATTER)


def _add_quiet(parser) -> None:
    # SUPPRESS: a --quiet given before the command is not overwritten by this parser's default.
    parser.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="print no progress lines, only the result (errors and warnings still show)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _add_executor(parser) -> None:
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="local: one seed after the other in this process; ray: every variant and seed a Ray "
                             "task (pip install 'qthybrid[distributed]'), same files and metrics "
                             "(default: %(default)s)")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --executor ray: the cluster to join, 'auto' (the one running on this machine) "
                             "or HOST:PORT or ray://HOST:10001 (default: start a local Ray instance)")
    parser.add_argument("--cpus-per-task", type=_positive_int, metavar="N",
                        help="with --executor ray: CPUs (torch threads) per task (default: the threads of a "
                             "local run here, so the results equal the local run's; 1 runs more tasks at once, "
                             "with results rounded as a one-thread run's)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qthybrid", description=DESCRIPTION, epilog=EPILOG, formatter_class=_FORMATTER)
    parser.add_argument("--debug", action="store_true",
                        help="on failure, print the Python traceback before the one-line error (any position)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON on standard output (progress moves to standard error)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress lines (run, compare)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = "experiment file (TOML), e.g. examples/demo.toml; 'qthybrid config schema' lists every key"

    run = _command(commands, "run", "train one experiment from a TOML config into a run directory",
                   "Train every seed of one experiment config. The run directory gets config.json, metrics.csv,\n"
                   "final.json, training.png, activation.png and checkpoint.pt (replaced after every epoch).",
                   "examples:\n"
                   "  qthybrid run examples/demo.toml --out runs/demo\n"
                   "  qthybrid run examples/demo.toml --out runs/demo --resume    continue after a kill\n"
                   "  qthybrid run examples/demo.toml --out runs/demo --executor ray   seeds as Ray tasks\n"
                   "  qthybrid --json run examples/rnn_sentiment.toml             final metrics as JSON")
    run.add_argument("config", help=config_help)
    run.add_argument("--out", metavar="DIR", help="run directory (default: runs/<name>-run-<date>-<time>)")
    run.add_argument("--resume", action="store_true", help="continue a stopped run in --out from its checkpoint")
    _add_executor(run)
    _add_quiet(run)
    run.set_defaults(handler=cmd_run)

    compare = _command(commands, "compare", "the same experiment on several QT backends and classical twins",
                       "Run one config once per QT backend and once per classical twin, then write compare.md,\n"
                       "compare.json, activations.png and compare.html (table and figures in one file) in the\n"
                       "output folder, with one run directory per variant.",
                       "examples:\n"
                       "  qthybrid compare examples/demo.toml --backends analytic --baselines relu\n"
                       "  qthybrid compare examples/demo.toml --backends analytic,statevector --baselines relu,tanh\n"
                       "  qthybrid compare examples/demo.toml --backends analytic,pennylane:lightning.qubit\n"
                       "  qthybrid compare examples/demo.toml --backends analytic --executor ray --ray-address auto")
    compare.add_argument("config", help=config_help)
    compare.add_argument("--backends", default="analytic,statevector", metavar="LIST",
                         help="comma-separated QT activation backends: analytic, statevector, aer, pennylane or "
                              "pennylane:DEVICE (default: %(default)s)")
    compare.add_argument("--baselines", default="relu", metavar="LIST",
                         help="comma-separated classical twins: relu, tanh, sigmoid; '' for none "
                              "(default: %(default)s)")
    compare.add_argument("--out", metavar="DIR", help="output folder (default: runs/<name>-compare-<date>-<time>)")
    compare.add_argument("--resume", action="store_true",
                         help="continue a stopped comparison in --out: finished variants are kept, stopped ones "
                              "continue from their checkpoints")
    _add_executor(compare)
    _add_quiet(compare)
    compare.set_defaults(handler=cmd_compare)

    curve = _command(commands, "curve", "T(E) from chosen backends beside the exact (analytic) T",
                     "Print the transmission T at energies E = eps*V0 from each backend, next to the exact T.\n"
                     "The nisq preset is a 6-qubit packet circuit, not an accurate T: a warning\n"
                     "says how far it is from the exact T.",
                     "examples:\n"
                     "  qthybrid curve --backends analytic,statevector\n"
                     "  qthybrid curve --backends analytic,aer,pennylane:lightning.qubit --preset nisq\n"
                     "  qthybrid curve --energies 0.5,1,2 --V0 10 --g 1")
    curve.add_argument("--backends", default="analytic,statevector", metavar="LIST",
                       help="comma-separated: analytic, statevector, aer, pennylane or pennylane:DEVICE "
                            "(default: %(default)s)")
    curve.add_argument("--preset", default="accurate", choices=_presets(),
                       help="circuit size: accurate (12 qubits, |dT| < 0.01) or nisq (6 qubits, not accurate) "
                            "(default: %(default)s)")
    curve.add_argument("--energies", type=_floats, default=[0.25, 0.5, 1.0, 2.0, 4.0], metavar="LIST",
                       help="comma-separated E/V0 values (default: 0.25,0.5,1,2,4)")
    curve.add_argument("--V0", type=float, default=30.0, help="barrier height in eV (default: %(default)s)")
    curve.add_argument("--g", type=float, default=0.5,
                       help="barrier strength g = sqrt(2 m V0) L / hbar (default: %(default)s)")
    curve.set_defaults(handler=cmd_curve)

    config = _command(commands, "config", "experiment files: JSON schema, check a file",
                      epilog="examples:\n  qthybrid config schema > qthybrid-config.schema.json\n"
                             "  qthybrid config check examples/demo.toml")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    schema = _command(config_commands, "schema", "print the JSON schema of experiment files (every key, type, "
                                                 "default, range and meaning)")
    schema.set_defaults(handler=cmd_config_schema)
    check = _command(config_commands, "check", "validate a config and print it with every default filled in")
    check.add_argument("config", help="experiment file (TOML)")
    check.set_defaults(handler=cmd_config_check)

    circuits = _command(commands, "circuits", "OpenQASM 3 exports and gate counts",
                        epilog="examples:\n  qthybrid circuits export\n"
                               "  qthybrid circuits show accurate --target fake_torino")
    circuit_commands = circuits.add_subparsers(dest="circuits_command", required=True, metavar="ACTION")
    export = _command(circuit_commands, "export", "regenerate the OpenQASM 3 files and manifest.json")
    export.add_argument("--dir", default="circuits", help="output folder (default: %(default)s)")
    export.set_defaults(handler=cmd_circuits_export)
    show = _command(circuit_commands, "show", "qubits, depth and gate counts of a preset's circuit after transpiling")
    show.add_argument("preset", choices=_presets(), help="scattering preset (accurate: its per-energy packet "
                                                          "circuit)")
    show.add_argument("--target", default="generic",
                      help="'generic' (cx/rz/sx/x basis) or a fake IBM backend, e.g. fake_torino "
                           "(default: %(default)s)")
    show.add_argument("--eps", type=float, default=1.0, help="E/V0; sets the number of steps (default: %(default)s)")
    show.set_defaults(handler=cmd_circuits_show)

    submit = _command(commands, "submit", "send a T(E) sweep to a provider (cost shown first); every job is "
                                          "journaled",
                      epilog="examples:\n  qthybrid submit ibm:fake_torino --shots 2000 --wait    offline, "
                             "with the device's noise\n  qthybrid submit braket:local --yes --wait\n"
                             "  qthybrid submit ibm:ibm_torino --shots 4000              asks before sending")
    submit.add_argument("target", help="ibm:BACKEND (ibm:fake_torino runs offline), braket:ARN, braket:local or "
                                       "ionq:DEVICE")
    submit.add_argument("--preset", default="hardware", choices=_presets(),
                        help="scattering preset (default: %(default)s: 114 two-qubit gates on IBM heavy-hex "
                             "devices, the one that survives their noise)")
    submit.add_argument("--eps", type=_floats, default=[0.5, 1.0, 2.0], metavar="LIST",
                        help="comma-separated E/V0 values (default: 0.5,1,2)")
    submit.add_argument("--shots", type=int, default=1000, help="shots per energy (default: %(default)s)")
    submit.add_argument("--yes", action="store_true", help="send without asking")
    submit.add_argument("--wait", action="store_true", help="wait for the result and store it in the journal")
    submit.set_defaults(handler=cmd_submit)

    jobs = _command(commands, "jobs", "list journaled jobs, or fetch one's result",
                    epilog="examples:\n  qthybrid jobs list\n  qthybrid jobs fetch JOB_ID")
    jobs.add_argument("action", choices=["list", "fetch"], help="list every job, or fetch one")
    jobs.add_argument("job_id", nargs="?", help="the job to fetch (from 'qthybrid jobs list')")
    jobs.set_defaults(handler=cmd_jobs)

    anneal = _command(commands, "anneal", "minimise a function with the QDE annealer",
                      epilog="examples:\n  qthybrid anneal rastrigin\n"
                             "  qthybrid anneal tilted_double_well --backend aer\n"
                             "  qthybrid anneal my_module:my_function --bounds=-5:5,-5:5")
    anneal.add_argument("function", help="a named test function (e.g. rastrigin, ackley) or module:function "
                                         "(vectorised: shape (..., d) -> (...))")
    anneal.add_argument("--backend", default="analytic", metavar="NAME",
                        help="analytic: the classical walker / grid solvers; a program backend (statevector, aer, "
                             "pennylane, pennylane:DEVICE or a plug-in): the circuit solver (default: %(default)s)")
    anneal.add_argument("--bounds", help="low:high per dimension, comma-separated; write --bounds=-5:5,-5:5")
    anneal.add_argument("--dims", type=_positive_int, help="repeat the first bound this many times (>= 1)")
    anneal.add_argument("--maxfev", type=_positive_int, help="evaluation budget (default: 2000 per dimension)")
    anneal.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    anneal.set_defaults(handler=cmd_anneal)

    bench = _command(commands, "bench", "run benchmark scripts (from a source checkout) and print their tables",
                     epilog="examples:\n  qthybrid bench classifier\n  qthybrid bench scattering_speed")
    bench.add_argument("names", nargs="*", metavar="NAME",
                       help="benchmarks/NAME.py to run (default: activation_speed, scattering_speed, classifier, "
                            "hardware_rehearsal; anneal takes hours with every suite: see its --help)")
    bench.set_defaults(handler=cmd_bench)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the cause, then where to read the command's options."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


#: Exceptions a user causes (bad arguments, files, ids): exit 2. Anything else that stops the work: exit 1.
_BAD_INPUT = (ValueError, TypeError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError,
              PermissionError)


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (OSErrors as 'cause: file')."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename and str(exc).startswith("[Errno"):
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _failure(exc: Exception) -> tuple[int, str]:
    """(exit code, the one line printed) for an exception that ended a command (imports nothing)."""
    if isinstance(exc, _BAD_INPUT):    # incl. ConfigError, IDXError, CheckpointError, UnknownJobError
        return EXIT_USAGE, f"qthybrid: error: {_one_line(exc)}"
    if isinstance(exc, (RuntimeError, OSError, MemoryError, ImportError)):   # incl. ConnectionError, JournalError
        return EXIT_FAILED, f"qthybrid: error: {type(exc).__name__}: {_one_line(exc)}"
    return EXIT_FAILED, (f"qthybrid: internal error: {type(exc).__name__}: {_one_line(exc)} "
                         f"(run again with --debug for the traceback, and please report it)")


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Python warnings as one line, like the errors (``--debug`` keeps Python's own format)."""
    return f"qthybrid: warning: {category.__name__}: {' '.join(str(message).split())}\n"


def main(argv=None) -> int:
    """Run one command. Every failure prints one line on standard error and returns its exit code
    (2 bad input, 1 failed work, 3 declined); ``--debug`` (anywhere on the line) adds the traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    default_format = warnings.formatwarning
    if not debug:
        warnings.formatwarning = _one_line_warning
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("qthybrid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:        # output piped into a reader that stopped (e.g. head)
        sys.stdout = open(os.devnull, "w")
        return EXIT_FAILED
    except Exception as exc:
        code, line = _failure(exc)
        if debug:
            traceback.print_exc()
        print(line, file=sys.stderr)
        return code
    finally:
        warnings.formatwarning = default_format


if __name__ == "__main__":
    sys.exit(main())
