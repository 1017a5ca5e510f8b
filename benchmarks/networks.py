"""The paper's four networks with the QT activation and their classical twins, over several seeds.

    python benchmarks/networks.py [--seeds 5] [--fnn-epochs 3] [--rnn-epochs 80] [--esn-seeds 3]

* FNN on Fashion-MNIST (Debian's dataset-fashion-mnist; digits if absent): the paper's
  784-512-10, SGD lr 0.01, batch 64, clip-norm 5, N(0, 0.01^2) init; QT vs ReLU test
  accuracy after ``--fnn-epochs`` epochs and the per-epoch time ratio.
* RNN on the toy sentiment set: epochs to 100 % train and test accuracy (Adam lr 0.01,
  24 hidden units, at most ``--rnn-epochs``), QT vs tanh.
* Variational BNN on Fashion-MNIST (10k training images, 10 epochs, --seeds seeds): test accuracy and
  mean predictive entropy on test images vs uniform-noise images, QT vs ReLU.
* ESN on Mackey-Glass (the paper's protocol: N = 1000, leak 0.3, rho 1.25, ridge 1e-8,
  ampl 3, 100/2000 washout/train, 500 free-run steps): MSE and NMSE, QT vs tanh.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from _report import write_report
from qthybrid.data import encode, load_digits, load_fashion_mnist, load_sentiment, mackey_glass
from qthybrid.models import (BayesianNet, EchoStateNetwork, FeedForward, RecurrentClassifier, accuracy,
                             train_bayesian, train_classifier, train_sequences)

torch.set_num_threads(2)


def image_data():
    try:
        X_train, y_train = load_fashion_mnist("train")
        X_test, y_test = load_fashion_mnist("test")
        return "fashion-mnist", X_train, y_train, X_test, y_test
    except FileNotFoundError:
        X_train, X_test, y_train, y_test = load_digits()
        return "digits", X_train, y_train, X_test, y_test


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return "never"
    return f"{statistics.mean(values):.4g} ± {statistics.pstdev(values):.2g}" if len(values) > 1 else f"{values[0]:.4g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fnn-epochs", type=int, default=3)
    parser.add_argument("--rnn-epochs", type=int, default=80)
    parser.add_argument("--esn-seeds", type=int, default=5)
    args = parser.parse_args()
    rows, raw = [], {}
    name, X_train, y_train, X_test, y_test = image_data()

    # FNN --------------------------------------------------------------------------------------
    fnn = {}
    for activation in ("qt", "relu"):
        accuracies, epoch_seconds = [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = FeedForward(X_train.shape[1], 512, 10, activation=activation)
            history = train_classifier(model, X_train, y_train, epochs=args.fnn_epochs, lr=0.01, seed=seed)
            accuracies.append(accuracy(model, X_test, y_test))
            epoch_seconds += [r["seconds"] for r in history]
        fnn[activation] = (accuracies, statistics.median(epoch_seconds))
        print("fnn", activation, accuracies, flush=True)
    for activation, (accuracies, seconds) in fnn.items():
        rows.append({"network": f"FNN 784-512-10 ({name}, {args.fnn_epochs} epochs)", "activation": activation,
                     "metric": "test accuracy", "value": mean_std(accuracies), "seconds_per_epoch": seconds,
                     "time_ratio": seconds / fnn["relu"][1]})
    raw["fnn"] = {k: v[0] for k, v in fnn.items()}

    # RNN --------------------------------------------------------------------------------------
    train, test = load_sentiment()
    train = [(torch.as_tensor(encode(s)), int(label)) for s, label in train]
    test = [(torch.as_tensor(encode(s)), int(label)) for s, label in test]
    rnn = {}
    for activation in ("qt", "tanh"):
        to_train, to_test, finals, epoch_seconds = [], [], [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = RecurrentClassifier(20, 24, 2, activation=activation, init_scale=None)
            history = train_sequences(model, train, test, epochs=args.rnn_epochs, lr=0.01, seed=seed,
                                      optimizer="adam", stop_at_perfect=False)
            to_train.append(next((r["epoch"] for r in history if r["train_accuracy"] == 1.0), None))
            to_test.append(next((r["epoch"] for r in history if r["test_accuracy"] == 1.0), None))
            finals.append(history[-1]["test_accuracy"])
            epoch_seconds += [r["seconds"] for r in history]
        rnn[activation] = (to_train, to_test, finals, statistics.median(epoch_seconds))
        print("rnn", activation, to_train, to_test, finals, flush=True)
    for activation, (to_train, to_test, finals, seconds) in rnn.items():
        rows.append({"network": "RNN sentiment (epochs to 100 % train)", "activation": activation, "metric":
                     f"reached in {sum(e is not None for e in to_train)}/{args.seeds}",
                     "value": mean_std(to_train), "seconds_per_epoch": seconds,
                     "time_ratio": seconds / rnn["tanh"][3]})
        rows.append({"network": f"RNN sentiment (test accuracy after {args.rnn_epochs} epochs)",
                     "activation": activation,
                     "metric": f"100 % test in {sum(e is not None for e in to_test)}/{args.seeds}",
                     "value": mean_std(finals), "seconds_per_epoch": seconds, "time_ratio": ""})
    raw["rnn"] = {k: {"epochs_to_train": v[0], "epochs_to_test": v[1], "final_test": v[2]} for k, v in rnn.items()}

    # BNN --------------------------------------------------------------------------------------
    subset = slice(0, 10_000)
    noise = torch.rand(2000, X_train.shape[1], generator=torch.Generator().manual_seed(0))
    bnn = {}
    for activation in ("qt", "relu"):
        accuracies, entropy_in, entropy_out = [], [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = BayesianNet(X_train.shape[1], 512, 10, activation=activation)
            train_bayesian(model, X_train[subset], y_train[subset], epochs=10, lr=1e-3, seed=seed)
            probabilities, entropy = model.predict(torch.as_tensor(X_test), samples=20)
            accuracies.append(float((probabilities.argmax(1).numpy() == y_test).mean()))
            entropy_in.append(float(entropy.mean()))
            entropy_out.append(float(model.predict(noise, samples=20)[1].mean()))
        bnn[activation] = (accuracies, entropy_in, entropy_out)
        print("bnn", activation, accuracies, entropy_in, entropy_out, flush=True)
        rows.append({"network": f"variational BNN ({name}, 10k images, 10 epochs)", "activation": activation,
                     "metric": "test accuracy; entropy test vs noise (nats)",
                     "value": f"{mean_std(accuracies)}; {statistics.mean(entropy_in):.3f} vs "
                              f"{statistics.mean(entropy_out):.3f}", "seconds_per_epoch": "", "time_ratio": ""})
    raw["bnn"] = bnn

    # ESN --------------------------------------------------------------------------------------
    data = mackey_glass(10_000)
    esn = {}
    for activation in ("qt", "tanh"):
        results = []
        for seed in (42, *range(args.esn_seeds - 1)):
            start = time.perf_counter()
            model = EchoStateNetwork(activation=activation, random_state=seed).fit(data[:2000, None], data[1:2001])
            free = model.generate(500, data[2000])
            mse = float(np.mean((free - data[2001:2501]) ** 2))
            results.append((mse, mse / float(np.var(data[2001:2501])), time.perf_counter() - start))
        esn[activation] = results
        print("esn", activation, results, flush=True)
        rows.append({"network": "ESN Mackey-Glass (500 free-run steps)", "activation": activation,
                     "metric": "MSE; NMSE", "value": f"{mean_std([r[0] for r in results])}; "
                                                      f"{mean_std([r[1] for r in results])}",
                     "seconds_per_epoch": statistics.mean(r[2] for r in results), "time_ratio": ""})
    raw["esn"] = esn
    print(write_report("networks", rows, ["network", "activation", "metric", "value", "seconds_per_epoch",
                                          "time_ratio"], extra={"raw": raw, "seeds": args.seeds}))


if __name__ == "__main__":
    main()
