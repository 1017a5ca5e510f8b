"""Paper 3's experiment: the tunnelling classifier against logistic regression, and its figures.

    python examples/tunneling_classifier.py [--out runs/tunneling_classifier]

1. make_classification with one informative feature (the paper gives no
   parameters; we use 1000 samples, 80/20 split, several seeds): accuracy of
   Q(x) = 1/(1 + exp(alpha (beta - x))) fitted by BFGS vs LogisticRegression,
   and the fitted (alpha, beta) against the regression's (w, b).
2. The paper's Figure 1: sigmoid (alpha = 1) vs the "quantum" curve (alpha = 1.5,
   beta = 0) on x in [-10, 10], saved as figure1.png.
3. The decision boundary on a two-feature dataset, saved as decision_boundary.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from qthybrid import TunnelingClassifier, logistic_transmission


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tunneling_classifier")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    print("| random_state | tunnelling acc | logistic acc | alpha | beta | w | -b/w |")
    print("|---|---|---|---|---|---|---|")
    for seed in (0, 1, 7, 42):
        X, y = make_classification(n_samples=1000, n_features=1, n_informative=1, n_redundant=0,
                                   n_clusters_per_class=1, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
        model = TunnelingClassifier().fit(X_train, y_train)
        reference = LogisticRegression(C=np.inf).fit(X_train, y_train)
        w, b = reference.coef_[0, 0], reference.intercept_[0]
        print(f"| {seed} | {model.score(X_test, y_test):.3f} | {reference.score(X_test, y_test):.3f} | "
              f"{model.alpha_:.4f} | {model.beta_:.4f} | {w:.4f} | {-b / w:.4f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(-10, 10, 200)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, logistic_transmission(x, alpha=1.0), label="sigmoid (alpha = 1)")
    ax.plot(x, logistic_transmission(x, alpha=1.5, beta=0.0), "--", label="tunnelling Q (alpha = 1.5, beta = 0)")
    ax.set_xlabel("x")
    ax.set_ylabel("probability")
    ax.set_title("Figure 1: sigmoid vs tunnelling curve")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "figure1.png", dpi=120)

    X, y = make_classification(n_samples=400, n_features=2, n_informative=2, n_redundant=0,
                               n_clusters_per_class=1, random_state=3)
    model = TunnelingClassifier(projection="learned").fit(X, y)
    xx, yy = np.meshgrid(np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 300),
                         np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, 300))
    Q = model.predict_proba(np.column_stack([xx.ravel(), yy.ravel()]))[:, 1].reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    contour = ax.contourf(xx, yy, Q, levels=20, cmap="RdBu_r", alpha=0.7)
    ax.contour(xx, yy, Q, levels=[0.5], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
    fig.colorbar(contour, label="Q (transmission)")
    ax.set_title(f"decision boundary (alpha = {model.alpha_:.2f}, beta = {model.beta_:.2f}), "
                 f"accuracy {model.score(X, y):.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "decision_boundary.png", dpi=120)
    print(f"\nsaved {out / 'figure1.png'} and {out / 'decision_boundary.png'}")


if __name__ == "__main__":
    main()
