"""Reference for bench/serve.ts: the same model as millwright serves (random forest regression,
same CSV, same hyperparameters) with the common Python stack: scikit-learn behind Flask under
gunicorn. Benchmark reference only, never a runtime dependency.

  /usr/bin/python3 bench/serve_reference.py train TRAIN.csv TARGET MODEL.pkl TREES DEPTH MIN_LEAF
  REF_MODEL=MODEL.pkl gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench serve_reference:app
"""
import io
import json
import os
import pickle
import sys

import numpy as np


def train(csv_path, target, out, trees, depth, min_leaf):
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    df = pd.read_csv(csv_path)
    features = [c for c in df.columns if c != target]
    model = RandomForestRegressor(
        n_estimators=int(trees), max_depth=int(depth) or None, min_samples_leaf=int(min_leaf),
        max_features=1.0, random_state=42, n_jobs=1,
    )
    model.fit(df[features].to_numpy(dtype=np.float64), df[target].to_numpy(dtype=np.float64))
    with open(out, "wb") as f:
        pickle.dump({"model": model, "features": features}, f)


app = None
if os.environ.get("REF_MODEL"):
    from flask import Flask, Response, request

    with open(os.environ["REF_MODEL"], "rb") as f:
        bundle = pickle.load(f)
    model = bundle["model"]
    n_features = len(bundle["features"])
    app = Flask(__name__)

    @app.get("/ping")
    def ping():
        return Response(status=200)

    @app.post("/invocations")
    def invocations():
        ctype = (request.content_type or "").split(";")[0].strip()
        body = request.get_data(as_text=True)
        try:
            if ctype == "text/csv":
                x = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
            elif ctype == "application/json":
                x = np.asarray(json.loads(body)["instances"], dtype=np.float64)
            else:
                return Response(json.dumps({"error_code": "UNSUPPORTED_MEDIA_TYPE"}), status=415, mimetype="application/json")
            if x.ndim != 2 or x.shape[1] != n_features:
                raise ValueError(f"expected {n_features} columns")
        except (ValueError, KeyError) as e:
            return Response(json.dumps({"error_code": "BAD_INPUT", "message": str(e)}), status=400, mimetype="application/json")
        y = model.predict(x)
        if "text/csv" in (request.headers.get("Accept") or ""):
            return Response("\n".join(repr(float(v)) for v in y) + "\n", mimetype="text/csv")
        return Response(json.dumps({"predictions": y.tolist()}), mimetype="application/json")


if __name__ == "__main__" and sys.argv[1:2] == ["train"]:
    train(*sys.argv[2:8])
