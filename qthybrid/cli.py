"""The ``qthybrid`` command (argparse; every heavy import happens inside a subcommand).

    qthybrid run CONFIG.toml [--out DIR] [--resume]
    qthybrid compare CONFIG.toml [--backends analytic,statevector] [--baselines relu] [--out DIR]
    qthybrid curve [--backends analytic,statevector,aer] [--preset accurate] [--energies ...]
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
import subprocess
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DECLINED = 0, 1, 2, 3


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _emit(args, payload, table: str) -> None:
    print(json.dumps(payload, indent=2, default=str) if args.json else table)


def _run_dir(config: dict, out: str | None, kind: str) -> Path:
    import time

    return Path(out) if out else Path("runs") / f"{config['experiment']['name']}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


def cmd_run(args) -> int:
    from qthybrid.experiments import load, run

    config = load(args.config)
    if args.resume and not args.out:
        raise ValueError("--resume needs --out (the run directory to continue)")
    out = _run_dir(config, args.out, "run")
    final = run(config, out, resume=args.resume)
    metric = "test_accuracy" if "test_accuracy_mean" in final else "mse"
    _emit(args, {"run_dir": str(out), **final},
          f"{metric.replace('_', ' ')} {final[metric + '_mean']:.4g} ± {final[metric + '_std']:.2g} over "
          f"{final['seeds']} seeds\nrun directory: {out}")
    return EXIT_OK


def cmd_compare(args) -> int:
    from qthybrid.experiments import compare, load
    from qthybrid.experiments.compare import table

    config = load(args.config)
    out = _run_dir(config, args.out, "compare")
    rows = compare(config, args.backends.split(","), [b for b in args.baselines.split(",") if b], out)
    _emit(args, {"run_dir": str(out), "rows": rows}, table(rows) + f"\n\nsaved in {out}")
    return EXIT_OK


def cmd_curve(args) -> int:
    import numpy as np

    import qthybrid
    from qthybrid import Barrier

    barrier = Barrier(V0=args.V0, g=args.g)
    eps = np.asarray(args.energies)
    columns = {"analytic": qthybrid.transmission(eps * barrier.V0, barrier)}
    for name in args.backends.split(","):
        if name == "analytic":
            continue
        backend_name, _, device = name.partition(":")
        options = {"preset": args.preset}
        if device:
            options["device"] = device
        columns[name] = qthybrid.get_backend(backend_name, **options).transmission(eps * barrier.V0, barrier)
    lines = ["| E/V0 | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += [f"| {e:g} | " + " | ".join(f"{columns[c][i]:.6f}" for c in columns) + " |" for i, e in enumerate(eps)]
    _emit(args, {"eps": eps.tolist(), **{k: np.asarray(v).tolist() for k, v in columns.items()}}, "\n".join(lines))
    return EXIT_OK


def cmd_circuits_export(args) -> int:
    from qthybrid.circuits import export_circuits

    manifest = export_circuits(args.dir)
    table = "\n".join(f"{e['file']}: {e['steps']} steps, {e['generic_basis']['two_qubit_gates']} two-qubit gates"
                      for e in manifest["circuits"])
    _emit(args, manifest, table + f"\nwrote {len(manifest['circuits'])} circuits and manifest.json to {args.dir}")
    return EXIT_OK


def cmd_circuits_show(args) -> int:
    from qthybrid.circuits import circuit_costs
    from qthybrid.programs import scattering_preset

    program = scattering_preset(args.preset)
    steps = int(program.schedule([args.eps]).steps[0])
    costs = circuit_costs(program, steps, None if args.target == "generic" else args.target)
    _emit(args, costs, "\n".join(f"{k}: {v}" for k, v in costs.items()))
    return EXIT_OK


def cmd_submit(args) -> int:
    from qthybrid.hardware import submit
    from qthybrid.programs import scattering_preset

    def confirm(cost):
        print(f"cost: {cost}", file=sys.stderr)
        if args.yes:
            return True
        if not sys.stdin.isatty():
            print("not a terminal: pass --yes to send", file=sys.stderr)
            return False
        return input("send? [y/N] ").strip().lower() == "y"

    record = submit(scattering_preset(args.preset), args.eps, args.target, shots=args.shots,
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
        table = "\n".join(f"{r.job_id}  {r.provider}:{r.backend}  {r.status}" for r in records) or "no jobs"
        _emit(args, [r.__dict__ for r in records], table)
        return EXIT_OK
    if not args.job_id:
        print("jobs fetch needs a JOB_ID", file=sys.stderr)
        return EXIT_USAGE
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

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name), None


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
    if args.dims and default_bounds is not None:
        bounds = [bounds[0]] * args.dims
    result = QDEAnnealer(backend=args.backend, seed=args.seed).minimize(function, bounds)
    payload = {"x": np.asarray(result.x).tolist(), "fun": result.fun, "nfev": result.nfev, "nit": result.nit,
               "method": result.method, "backend": result.backend, "message": result.message,
               "trajectory": result.trajectory}
    _emit(args, payload, f"x = {np.round(result.x, 8).tolist()}\nf = {result.fun:.10g}\nnfev = {result.nfev}"
                         f"  stages = {result.nit}  ({result.method}, {result.backend})")
    return EXIT_OK


def cmd_bench(args) -> int:
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    if not folder.is_dir():
        print("the benchmarks/ folder ships with the source tree; run from a checkout", file=sys.stderr)
        return EXIT_USAGE
    names = args.names or ["activation_speed", "scattering_speed", "classifier", "hardware_rehearsal", "anneal"]
    for name in names:
        script = folder / f"{name}.py"
        if not script.exists():
            print(f"unknown benchmark {name!r}; known: "
                  f"{', '.join(sorted(p.stem for p in folder.glob('[!_]*.py')))}", file=sys.stderr)
            return EXIT_USAGE
        if subprocess.run([sys.executable, str(script)], cwd=folder).returncode:
            return EXIT_FAILED
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qthybrid", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="one experiment from a TOML config into a run directory")
    run.add_argument("config")
    run.add_argument("--out", help="run directory (default runs/<name>-run-<time>)")
    run.add_argument("--resume", action="store_true", help="continue a killed run in --out from its checkpoint")
    run.set_defaults(handler=cmd_run)

    compare = commands.add_parser("compare", help="the same experiment on several backends and classical twins")
    compare.add_argument("config")
    compare.add_argument("--backends", default="analytic,statevector",
                         help="QT activation backends: analytic, statevector, aer, pennylane:DEVICE")
    compare.add_argument("--baselines", default="relu", help="classical twins: relu, tanh, sigmoid ('' for none)")
    compare.add_argument("--out", help="output directory")
    compare.set_defaults(handler=cmd_compare)

    curve = commands.add_parser("curve", help="T(E) from chosen backends beside the analytic curve")
    curve.add_argument("--backends", default="analytic,statevector",
                       help="comma-separated: analytic, statevector, aer, pennylane:DEVICE")
    curve.add_argument("--preset", default="accurate", choices=["accurate", "nisq"])
    curve.add_argument("--energies", type=_floats, default=[0.25, 0.5, 1.0, 2.0, 4.0], help="E/V0 values")
    curve.add_argument("--V0", type=float, default=30.0, help="barrier height (eV)")
    curve.add_argument("--g", type=float, default=0.5, help="barrier strength")
    curve.set_defaults(handler=cmd_curve)

    circuits = commands.add_parser("circuits", help="OpenQASM 3 exports and gate counts")
    circuit_commands = circuits.add_subparsers(dest="circuits_command", required=True)
    export = circuit_commands.add_parser("export", help="regenerate circuits/ (OpenQASM 3 + manifest)")
    export.add_argument("--dir", default="circuits")
    export.set_defaults(handler=cmd_circuits_export)
    show = circuit_commands.add_parser("show", help="depth and gate counts after transpiling")
    show.add_argument("preset", choices=["accurate", "nisq"])
    show.add_argument("--target", default="generic", help="'generic' or a fake IBM backend, e.g. fake_torino")
    show.add_argument("--eps", type=float, default=1.0, help="E/V0 (sets the number of steps)")
    show.set_defaults(handler=cmd_circuits_show)

    submit = commands.add_parser("submit", help="send a sweep to a provider (cost shown first), journaled")
    submit.add_argument("target", help="ibm:BACKEND (ibm:fake_lagos offline) or braket:ARN|local")
    submit.add_argument("--preset", default="nisq", choices=["accurate", "nisq"])
    submit.add_argument("--eps", type=_floats, default=[0.5, 1.0, 2.0])
    submit.add_argument("--shots", type=int, default=1000)
    submit.add_argument("--yes", action="store_true", help="send without asking")
    submit.add_argument("--wait", action="store_true", help="wait for the result and store it")
    submit.set_defaults(handler=cmd_submit)

    jobs = commands.add_parser("jobs", help="the job journal")
    jobs.add_argument("action", choices=["list", "fetch"])
    jobs.add_argument("job_id", nargs="?")
    jobs.set_defaults(handler=cmd_jobs)

    anneal = commands.add_parser("anneal", help="minimise a function with the QDE annealer")
    anneal.add_argument("function", help="a named test function (e.g. rastrigin) or module:function")
    anneal.add_argument("--backend", default="analytic", choices=["analytic", "statevector", "aer", "pennylane"])
    anneal.add_argument("--bounds", help="low:high per dimension, comma-separated; write --bounds=-5:5,-5:5")
    anneal.add_argument("--dims", type=int, help="repeat a named function's first bound this many times")
    anneal.add_argument("--seed", type=int, default=0)
    anneal.set_defaults(handler=cmd_anneal)

    bench = commands.add_parser("bench", help="run benchmark scripts and print their tables")
    bench.add_argument("names", nargs="*")
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, FileExistsError) as exc:
        print(f"qthybrid: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RuntimeError, MemoryError, ConnectionError, ImportError) as exc:
        print(f"qthybrid: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
