"""TunnelingClassifier vs LogisticRegression (lbfgs): fit time and accuracy on 10k x 20 data.

    python benchmarks/classifier.py [--repeats 5]

Both fit the same unpenalised model family (the tunnelling law with a learned
projection is multivariate logistic regression), on make_classification(10000,
20 features, 10 informative), 80/20 split; the median fit time over repeats,
interleaved, and the test accuracy of each.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from _report import write_report
from qthybrid import TunnelingClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X, y = make_classification(n_samples=10_000, n_features=20, n_informative=10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    contenders = {
        "TunnelingClassifier (learned, BFGS)": lambda: TunnelingClassifier(),
        "TunnelingClassifier (lda, BFGS)": lambda: TunnelingClassifier(projection="lda"),
        "LogisticRegression (lbfgs, no penalty)": lambda: LogisticRegression(C=np.inf, max_iter=1000),
    }
    times = {name: [] for name in contenders}
    models = {}
    for _ in range(args.repeats):
        for name, make in contenders.items():
            start = time.perf_counter()
            models[name] = make().fit(X_train, y_train)
            times[name].append(time.perf_counter() - start)
    reference = statistics.median(times["LogisticRegression (lbfgs, no penalty)"])
    rows = [{"model": name, "fit_ms": 1e3 * statistics.median(t), "ratio_to_logistic": statistics.median(t) / reference,
             "test_accuracy": models[name].score(X_test, y_test)} for name, t in times.items()]
    print(write_report("classifier", rows, ["model", "fit_ms", "ratio_to_logistic", "test_accuracy"],
                       extra={"data": "make_classification(10000, 20, n_informative=10, random_state=0)"}))


if __name__ == "__main__":
    main()
