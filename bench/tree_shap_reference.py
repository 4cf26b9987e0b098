"""TreeSHAP reference for `npm run bench -- reports`: Debian python3-xgboost's pred_contribs
(the same path-dependent TreeSHAP, C++) on one thread, on the CSV the benchmark wrote.
Usage: tree_shap_reference.py train.csv explain.csv trees depth -> one JSON line."""
import json
import sys
import time

import numpy as np
import xgboost as xgb

train = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
explain = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
trees, depth = int(sys.argv[3]), int(sys.argv[4])
X, y = train[:, :-1], train[:, -1]
params = {"max_depth": depth, "eta": 0.1, "nthread": 1, "tree_method": "hist", "min_child_weight": 1}
booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=trees)
d = xgb.DMatrix(explain[:, :-1])
leaves = sum(t.count("leaf=") for t in booster.get_dump())
best = float("inf")
for _ in range(2):
    t0 = time.perf_counter()
    contribs = booster.predict(d, pred_contribs=True)
    best = min(best, time.perf_counter() - t0)
pred = booster.predict(d, output_margin=True)
err = float(np.max(np.abs(contribs.sum(axis=1) - pred)))
print(json.dumps({"rows": len(explain), "seconds": best, "leaves_per_tree": leaves / trees, "max_additivity_error": err, "xgboost": xgb.__version__}))
