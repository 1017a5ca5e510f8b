"""The paper's four networks on their authors' protocols, then over seeds, against their classical twins.

    python benchmarks/networks.py esn [--seeds 0-19]
    python benchmarks/networks.py rnn [--seeds 0-9] [--epochs 300]
    python benchmarks/networks.py bnn [--seeds 0-4] [--paper-train 1000 --paper-epochs 500]
    python benchmarks/networks.py fnn [--seeds 42] [--epochs 100]

Each experiment writes ``results/networks_<experiment>.json`` (every seed's numbers) and ``.md``
(``--name`` chooses another name, e.g. for a shorter FNN run over more seeds).
Protocols, from the authors' scripts (github.com/IvanMaksymov/Quantum-Tunnelling-Neural-Networks-Tutorial):

* **esn**: the standard MackeyGlass_t17.txt, N = 1000, leak 0.3, spectral radius 1.25, W_in and W
  U(-0.5, 0.5), ridge 1e-8, ampl 3, 100 washout / 2000 training steps, MSE over the first 500
  free-run steps. The authors' draw is ``np.random.seed(42)``; the seeds are RandomState(seed).
* **rnn**: the toy sentiment set (60 train / 20 test sentences; the authors' own set is 58 / 20),
  64 hidden units, weights randn/1000, per-sentence SGD with element-wise clipping to [-1, 1],
  lr 0.18 (QT) and 0.02 (tanh, the original), 300 epochs; the QT backward pass omits the ampl
  factor, as the authors' does. tanh at lr 0.18 separates the activation from the learning rate.
  Accuracy is also measured on the 420 sentences never seen.
* **bnn**: (a) the authors' noisy-weight net: means ~ N(0, 1), standard deviations 0.1, one
  weight sample per step, the same gradient to mean and std, full-batch SGD lr 0.5, 50 weight
  samples at test; by default on the first 1000 training images for 500 epochs (the variant in
  the authors' script), ``--paper-train 60000 --paper-epochs 1000`` for their full run.
  (b) Why a BNN is more confident on noise than on images: the variational net (10k images, 10
  epochs, Adam 1e-3, batch 128) scored on test images against four out-of-distribution sets of
  different scale, with 1-100 weight samples and priors N(0, 1) and N(0, 0.1^2): predictive
  entropy split into aleatoric and epistemic parts, and the OOD AUROC of each.
* **fnn**: 784-512-10 on Fashion-MNIST (the paper uses MNIST, which is not installable here),
  weights N(0, 0.01^2), SGD lr 0.01, batch 64, clip-norm 5, 100 epochs; QT backward as the authors'.
  Results are written after every (activation, seed), so a partial run keeps what finished.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` (apt-get install -y dataset-fashion-mnist)
or $QTHYBRID_DATA. Runs use one torch and BLAS thread by default (``--threads``): on a shared
2-core machine a second thread made small-batch training 10-17x slower.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _report import parse_seeds, write_report

#: The authors' script's numbers for the ESN on the standard file, np.random.seed(42) (papers.md).
PUBLISHED_ESN_MSE = {"qt": 4.2127e-5, "tanh": 1.0229e-6}


def summary(values, digits=3) -> str:
    """median [min, max] of the finite values, and how many were not finite."""
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return "none"
    text = (f"{statistics.median(finite):.{digits}g} [{min(finite):.{digits}g}, {max(finite):.{digits}g}]"
            if len(finite) > 1 else f"{finite[0]:.{digits}g}")
    missing = len(values) - len(finite)
    return text + (f", {missing} not reached" if missing else "")


def mean_std(values, digits=3) -> str:
    return f"{statistics.mean(values):.{digits}g} ± {statistics.pstdev(values):.{digits - 1}g}"


def auroc(in_distribution, out_of_distribution) -> float:
    """Area under the ROC curve of a score (higher = more likely OOD): 0.5 is chance, 1 perfect separation."""
    from sklearn.metrics import roc_auc_score

    scores = np.concatenate([np.asarray(in_distribution), np.asarray(out_of_distribution)])
    labels = np.concatenate([np.zeros(len(in_distribution)), np.ones(len(out_of_distribution))])
    return float(roc_auc_score(labels, scores))


# ESN ----------------------------------------------------------------------------------------------

def run_esn(args):
    from qthybrid.data import load_mackey_glass, mackey_glass
    from qthybrid.models import EchoStateNetwork

    standard, generated = load_mackey_glass(), mackey_glass(10_000)

    def free_run_mse(activation, seed, data):
        start = time.perf_counter()
        model = EchoStateNetwork(activation=activation, random_state=np.random.RandomState(seed))
        model.fit(data[:2000, None], data[1:2001])
        with np.errstate(over="ignore", invalid="ignore"):
            mse = float(np.mean((model.generate(500, data[2000]) - data[2001:2501]) ** 2))
        return mse, time.perf_counter() - start

    variance = float(np.var(standard[2001:2501]))
    rows, raw = [], {"variance_of_target": variance}
    for activation in ("qt", "tanh"):
        mse, seconds = free_run_mse(activation, 42, standard)
        published = PUBLISHED_ESN_MSE[activation]
        raw[f"{activation}_seed42"] = mse
        rows.append({"activation": activation, "protocol": "authors' draw, np.random.seed(42), standard file",
                     "seeds": "42", "MSE": f"{mse:.5g}", "NMSE": f"{mse / variance:.3g}",
                     "note": f"published {published:.5g}: {100 * (mse / published - 1):+.2f} %",
                     "s_per_fit": f"{seconds:.2f}"})
        print(rows[-1], flush=True)
        mse, _ = free_run_mse(activation, 42, generated)
        raw[f"{activation}_seed42_generated"] = mse
        rows.append({"activation": activation, "protocol": "same draw, qthybrid's generated series",
                     "seeds": "42", "MSE": f"{mse:.3g}", "NMSE": f"{mse / float(np.var(generated[2001:2501])):.3g}",
                     "note": "same statistics, different values: another trajectory", "s_per_fit": ""})
        print(rows[-1], flush=True)
    per_seed = {}
    for activation in ("qt", "tanh"):
        results = [free_run_mse(activation, seed, standard) for seed in args.seeds]
        per_seed[activation] = [r[0] for r in results]
        mse = np.array(per_seed[activation])
        everyone = np.append(mse, raw[f"{activation}_seed42"])
        rank = int(np.sum(everyone < raw[f"{activation}_seed42"])) + 1
        quartiles = np.nanpercentile(mse, [25, 75])
        rows.append({"activation": activation, "protocol": "over seeds, standard file",
                     "seeds": f"{args.seed_text} ({len(mse)})",
                     "MSE": f"median {np.nanmedian(mse):.3g}, IQR {quartiles[0]:.3g}-{quartiles[1]:.3g}, "
                            f"range {np.nanmin(mse):.3g}-{np.nanmax(mse):.3g}",
                     "NMSE": f"median {np.nanmedian(mse) / variance:.3g}",
                     "note": f"seed 42 ranks {rank} of {len(everyone)} (1 = lowest MSE); "
                             f"{int(np.sum(~np.isfinite(mse) | (mse > variance)))} free runs lost the signal "
                             f"(MSE > target variance)",
                     "s_per_fit": f"{statistics.median(r[1] for r in results):.2f}"})
        print(rows[-1], flush=True)
    ratio = np.array(per_seed["qt"]) / np.array(per_seed["tanh"])
    rows.append({"activation": "qt / tanh", "protocol": "same seed, standard file", "seeds": f"{len(ratio)}",
                 "MSE": f"ratio median {np.nanmedian(ratio):.3g}, range {np.nanmin(ratio):.3g}-{np.nanmax(ratio):.3g}",
                 "NMSE": "", "note": f"tanh has the lower MSE at {int(np.sum(ratio > 1))} of {len(ratio)} seeds",
                 "s_per_fit": ""})
    raw.update(seeds=args.seeds, mse=per_seed)
    return rows, ["activation", "protocol", "seeds", "MSE", "NMSE", "note", "s_per_fit"], raw


# RNN ----------------------------------------------------------------------------------------------

def run_rnn(args):
    import torch

    from qthybrid.data import encode, load_sentiment
    from qthybrid.models import RecurrentClassifier, sequence_accuracy, train_sequences

    def tensors(rows):
        return [(torch.as_tensor(encode(sentence)), int(label)) for sentence, label in rows]

    train, test = (tensors(rows) for rows in load_sentiment())
    unseen = tensors(load_sentiment(train_size=60, test_size=420)[1])
    rows, raw = [], {}
    for variant in args.variants.split(","):
        activation, _, lr = variant.partition(":")
        lr = float(lr)
        records = []
        for seed in args.seeds:
            torch.manual_seed(seed)
            options = {"paper_gradient": True} if activation == "qt" else {}
            model = RecurrentClassifier(20, 64, 2, activation=activation, init_scale=1e-3, **options)
            history = train_sequences(model, train, test, epochs=args.epochs, lr=lr, clip=1.0, seed=seed,
                                      stop_at_perfect=False)
            records.append({
                "seed": seed,
                "epochs_to_train_100": next((r["epoch"] for r in history if r["train_accuracy"] == 1.0), None),
                "epochs_to_test_100": next((r["epoch"] for r in history if r["test_accuracy"] == 1.0), None),
                "final_train": history[-1]["train_accuracy"], "final_test": history[-1]["test_accuracy"],
                "final_unseen": sequence_accuracy(model, unseen),
                "seconds_per_epoch": statistics.median(r["seconds"] for r in history)})
            print(variant, records[-1], flush=True)
        raw[variant] = records
        n = len(records)
        reached_train = [r["epochs_to_train_100"] for r in records]
        reached_test = [r["epochs_to_test_100"] for r in records]
        rows.append({
            "activation": activation, "lr": lr, "seeds": f"{args.seed_text} ({n})",
            "100 % train: seeds, epoch": f"{sum(e is not None for e in reached_train)}/{n}, {summary(reached_train)}",
            "100 % test (20): seeds, epoch": f"{sum(e is not None for e in reached_test)}/{n}, "
                                              f"{summary(reached_test)}",
            f"test accuracy at {args.epochs}": mean_std([r["final_test"] for r in records]),
            "unseen 420 accuracy": mean_std([r["final_unseen"] for r in records]),
            "s/epoch": f"{statistics.median(r['seconds_per_epoch'] for r in records):.3f}"})
        print(rows[-1], flush=True)
    columns = ["activation", "lr", "seeds", "100 % train: seeds, epoch", "100 % test (20): seeds, epoch",
               f"test accuracy at {args.epochs}", "unseen 420 accuracy", "s/epoch"]
    raw.update(seeds=args.seeds, epochs=args.epochs)
    return rows, columns, raw


# BNN ----------------------------------------------------------------------------------------------

def out_of_distribution_sets(X_test, generator):
    """Four sets unlike the images, at different scales (the images are in [0, 1], mean 0.29, half zeros)."""
    import torch

    X_test = torch.as_tensor(X_test)
    n, d = 2000, X_test.shape[1]
    mean_pixel = float(X_test.mean())
    shuffled = X_test[:n].clone()
    for row in shuffled:                          # each image's own pixels, in a random order
        row.copy_(row[torch.randperm(d, generator=generator)])
    return {
        "uniform U(0, 1)": torch.rand(n, d, generator=generator),
        f"uniform U(0, {2 * mean_pixel:.2f}) (mean of the images)": 2 * mean_pixel * torch.rand(n, d,
                                                                                              generator=generator),
        "pixel-shuffled test images": shuffled,
        "uniform U(0, 5) (5x the scale)": 5 * torch.rand(n, d, generator=generator),
    }


def score_uncertainty(model, X_test, ood_sets, samples):
    """Mean entropy (total and epistemic, nats) on the test images and each OOD set, and the OOD AUROCs."""
    import torch

    from qthybrid.models.bayesian import uncertainty

    torch.manual_seed(123)
    test = uncertainty(model.sample_probabilities(torch.as_tensor(X_test), samples))
    out = {}
    for name, X in ood_sets.items():
        ood = uncertainty(model.sample_probabilities(X, samples))
        out[name] = {"test_total": float(test["total"].mean()), "test_epistemic": float(test["epistemic"].mean()),
                     "ood_total": float(ood["total"].mean()), "ood_epistemic": float(ood["epistemic"].mean()),
                     "auroc_total": auroc(test["total"].numpy(), ood["total"].numpy()),
                     "auroc_epistemic": auroc(test["epistemic"].numpy(), ood["epistemic"].numpy())}
    return out


BNN_COLUMNS = ["net", "activation", "seeds", "weight samples", "OOD set", "test accuracy",
               "entropy test / OOD (nats)", "epistemic test / OOD (nats)", "AUROC total", "AUROC epistemic", "note"]


def bnn_row(net, activation, seed_text, samples, ood_name, records, key, accuracy=True, note=""):
    """One table row: means ± spread over seeds of the scores ``records[i][key][ood_name]``."""
    entries = [r[key][ood_name] for r in records]

    def both(field):
        return (f"{statistics.mean(e['test_' + field] for e in entries):.3f} / "
                f"{statistics.mean(e['ood_' + field] for e in entries):.3f}")

    return {"net": net, "activation": activation, "seeds": f"{seed_text} ({len(records)})",
            "weight samples": samples, "OOD set": ood_name,
            "test accuracy": mean_std([r["test_accuracy"] for r in records]) if accuracy else "",
            "entropy test / OOD (nats)": both("total"), "epistemic test / OOD (nats)": both("epistemic"),
            "AUROC total": mean_std([e["auroc_total"] for e in entries]),
            "AUROC epistemic": mean_std([e["auroc_epistemic"] for e in entries]) if samples > 1 else "–",
            "note": note}


def run_bnn(args):
    import torch

    from qthybrid.data import load_fashion_mnist
    from qthybrid.models import BayesianNet, train_bayesian

    X_train, y_train = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    ood_sets = out_of_distribution_sets(X_test, torch.Generator().manual_seed(0))
    uniform = next(iter(ood_sets))
    raw = {"input_norm": {"test images": float(np.linalg.norm(X_test, axis=1).mean()),
                          **{name: float(X.norm(dim=1).mean()) for name, X in ood_sets.items()}},
           "paper": {}, "variational": {}}
    print("mean L2 norm of the inputs:", raw["input_norm"], flush=True)
    rows = []

    # (a) the authors' noisy-weight net -----------------------------------------------------------
    subset = slice(0, args.paper_train)
    net = f"authors' noisy-weight net ({args.paper_train} images, {args.paper_epochs} full-batch epochs, lr 0.5)"
    for activation in ("qt", "relu"):
        records = []
        for seed in args.seeds:
            torch.manual_seed(seed)
            options = {"paper_gradient": True} if activation == "qt" else {}
            model = BayesianNet(784, 512, 10, activation=activation, noisy=True, init_mu_std=1.0, init_sigma=0.1,
                                **options)
            history = train_bayesian(model, X_train[subset], y_train[subset], epochs=args.paper_epochs, lr=0.5,
                                     batch_size=None, optimizer="sgd", seed=seed)
            diverged = next((r["epoch"] for r in history if not np.isfinite(r["loss"])), None)
            record = {"seed": seed, "final_loss": history[-1]["loss"], "diverged_at_epoch": diverged,
                      "seconds_per_epoch": statistics.median(r["seconds"] for r in history)}
            if diverged is None:
                torch.manual_seed(seed)
                probabilities, _ = model.predict(torch.as_tensor(X_test), samples=50)
                record["test_accuracy"] = float((probabilities.argmax(1).numpy() == y_test).mean())
                record["scores"] = score_uncertainty(model, X_test, ood_sets, 50)
            records.append(record)
            print("bnn paper", activation, {k: v for k, v in record.items() if k != "scores"}, flush=True)
        raw["paper"][activation] = records
        finished = [r for r in records if r["diverged_at_epoch"] is None]
        note = (f"loss not finite in {len(records) - len(finished)}/{len(records)} seeds "
                f"(epochs {[r['diverged_at_epoch'] for r in records if r['diverged_at_epoch']]})"
                if len(finished) < len(records) else "")
        if finished:
            rows += [bnn_row(net, activation, args.seed_text, 50, name, finished, "scores", name == uniform, note)
                     for name in ood_sets]
        else:
            rows.append({"net": net, "activation": activation, "seeds": f"{args.seed_text} ({len(records)})",
                         "note": note})
        print(rows[-1], flush=True)

    # (b) the variational BNN: what makes it confident on noise ---------------------------------------
    for prior in args.priors:
        net = f"variational BNN, prior N(0, {prior:g}²) (10k images, 10 epochs, Adam)"
        for activation in ("qt", "relu"):
            records = []
            for seed in args.seeds:
                torch.manual_seed(seed)
                model = BayesianNet(784, 512, 10, activation=activation, prior_sigma=prior)
                train_bayesian(model, X_train[:10_000], y_train[:10_000], epochs=10, lr=1e-3, seed=seed)
                torch.manual_seed(seed)
                probabilities, _ = model.predict(torch.as_tensor(X_test), samples=20)
                sigma = torch.nn.functional.softplus(model.hidden.weight_rho)
                record = {"seed": seed, "test_accuracy": float((probabilities.argmax(1).numpy() == y_test).mean()),
                          "posterior_sigma_hidden_median": float(sigma.median()),
                          "posterior_sigma_hidden_max": float(sigma.max())}
                for samples in (1, 20, 100):
                    record[f"scores_{samples}"] = score_uncertainty(
                        model, X_test, ood_sets if samples == 20 else {uniform: ood_sets[uniform]}, samples)
                records.append(record)
                print("bnn variational", prior, activation,
                      {k: v for k, v in record.items() if not k.startswith("scores")}, flush=True)
            raw["variational"][f"prior {prior:g}, {activation}"] = records
            sigma_note = (f"posterior σ of hidden weights: median "
                          f"{statistics.mean(r['posterior_sigma_hidden_median'] for r in records):.3f} "
                          f"(initial 0.05)")
            rows += [bnn_row(net, activation, args.seed_text, samples, uniform, records, f"scores_{samples}",
                             samples == 20, sigma_note if samples == 20 else "") for samples in (1, 20, 100)]
            rows += [bnn_row(net, activation, args.seed_text, 20, name, records, "scores_20", False)
                     for name in ood_sets if name != uniform]
            print(rows[-1], flush=True)
    raw.update(seeds=args.seeds, paper_train=args.paper_train, paper_epochs=args.paper_epochs, priors=args.priors)
    return rows, BNN_COLUMNS, raw


# FNN ----------------------------------------------------------------------------------------------

def run_fnn(args):
    import torch

    from qthybrid.data import load_fashion_mnist
    from qthybrid.models import FeedForward, train_classifier

    X_train, y_train = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    columns = ["activation", "seed", "epochs run", "test accuracy by epoch", "train accuracy (last)",
               "s/epoch"]
    rows, raw = [], {"epochs": args.epochs, "seeds": args.seeds, "runs": {}}
    for seed in args.seeds:
        for activation in ("qt", "relu"):
            torch.manual_seed(seed)
            options = {"paper_gradient": True} if activation == "qt" else {}
            model = FeedForward(784, 512, 10, activation=activation, init_std=0.01, **options)
            history = train_classifier(model, X_train, y_train, X_test, y_test, epochs=args.epochs, lr=0.01,
                                       batch_size=64, clip_norm=5.0, seed=seed,
                                       progress=lambda r: print(activation, seed, r, flush=True))
            raw["runs"][f"{activation}, seed {seed}"] = history
            marks = [e for e in (1, 3, 10, 30, 100) if e <= len(history)]
            rows.append({"activation": activation, "seed": seed, "epochs run": len(history),
                         "test accuracy by epoch": ", ".join(f"{e}: {history[e - 1]['test_accuracy']:.4f}"
                                                             for e in marks),
                         "train accuracy (last)": f"{history[-1]['train_accuracy']:.4f}",
                         "s/epoch": f"{statistics.median(r['seconds'] for r in history):.2f}"})
            # written after every run, so a long run that is stopped keeps what finished
            print(write_report(args.name, rows, columns, extra={"raw": raw}))
    return rows, columns, raw


EXPERIMENTS = {"esn": run_esn, "rnn": run_rnn, "bnn": run_bnn, "fnn": run_fnn}
DEFAULT_SEEDS = {"esn": "0-19", "rnn": "0-9", "bnn": "0-4", "fnn": "42"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seeds", help="e.g. 0-9 or 42,0-4 (defaults: " +
                        ", ".join(f"{k} {v}" for k, v in DEFAULT_SEEDS.items()) + ")")
    parser.add_argument("--epochs", type=int, help="rnn: 300 (the paper's claim); fnn: 100")
    parser.add_argument("--variants", default="qt:0.18,tanh:0.02,tanh:0.18",
                        help="rnn: activation:lr pairs (the authors': QT 0.18, tanh 0.02; tanh 0.18 is the same lr)")
    parser.add_argument("--paper-train", type=int, default=1000, help="bnn: training images for the authors' net")
    parser.add_argument("--paper-epochs", type=int, default=500, help="bnn: full-batch epochs for the authors' net")
    parser.add_argument("--priors", default="1.0,0.1", help="bnn: prior standard deviations of the variational net")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument("--name", help="results file name (default networks_<experiment>)")
    args = parser.parse_args()
    args.name = args.name or f"networks_{args.experiment}"
    args.seed_text = args.seeds or DEFAULT_SEEDS[args.experiment]
    args.seeds = parse_seeds(args.seed_text)
    args.epochs = args.epochs or {"rnn": 300, "fnn": 100}.get(args.experiment)
    args.priors = [float(p) for p in args.priors.split(",")]
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with threadpool_limits(args.threads):
        rows, columns, raw = EXPERIMENTS[args.experiment](args)
    raw["wall_seconds"] = time.perf_counter() - start
    raw["threads"] = args.threads
    print(write_report(args.name, rows, columns, extra={"raw": raw}))


if __name__ == "__main__":
    main()
