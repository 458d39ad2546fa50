"""Times scikit-learn's LogisticRegression (lbfgs, C=1) on a CSV written by
`cargo run -p qualify-train --example bench_data`. Prints the best of 5 fits."""
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression


def main(path: str) -> None:
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(int)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=500, tol=1e-5).fit(x, y)
        times.append(time.perf_counter() - start)
    print(f"sklearn lbfgs fit {x.shape[0]}x{x.shape[1]}: best {min(times)*1000:.1f} ms, "
          f"median {sorted(times)[2]*1000:.1f} ms, iterations {model.n_iter_[0]}")


if __name__ == "__main__":
    main(sys.argv[1])
