"""Times scikit-learn's LogisticRegression (lbfgs, C=1) on a CSV written by
`cargo run -p qualify-train --example bench_data`. Prints the best and median of 5 fits,
the training log loss (to compare with qualify's fit on the same rows), and which BLAS
kernel and thread counts numpy/scipy run with (OPENBLAS_CORETYPE changes the kernel)."""
import os
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_info


def main(path: str) -> None:
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(int)
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    pools = ", ".join(
        f"{p['internal_api']} {p.get('architecture') or ''} x{p['num_threads']}".strip()
        for p in threadpool_info()
    )
    print(f"env {env or 'OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset'}; thread pools: {pools}")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=500, tol=1e-5).fit(x, y)
        times.append(time.perf_counter() - start)
    loss = log_loss(y, model.predict_proba(x)[:, 1])
    print(f"sklearn lbfgs fit {x.shape[0]}x{x.shape[1]}: best {min(times)*1000:.1f} ms, "
          f"median {sorted(times)[2]*1000:.1f} ms, iterations {model.n_iter_[0]}, "
          f"training log loss {loss:.9f}, intercept {model.intercept_[0]:.6f}")


if __name__ == "__main__":
    main(sys.argv[1])
