"""Reference for bench/serve.ts: the same model as millwright serves (random forest regression,
same CSV, same hyperparameters) with the common Python stacks: scikit-learn behind Flask under
gunicorn, behind FastAPI under uvicorn, and behind aiohttp under gunicorn (same parsing and
predict code in all three). Benchmark reference only, never a runtime dependency.

  /usr/bin/python3 bench/serve_reference.py train TRAIN.csv TARGET MODEL.pkl TREES DEPTH MIN_LEAF
  REF_MODEL=MODEL.pkl gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench serve_reference:app
  REF_MODEL=MODEL.pkl uvicorn --workers 2 --host 127.0.0.1 --port PORT --app-dir bench serve_reference:fastapi_app
  REF_MODEL=MODEL.pkl gunicorn -w 2 -k aiohttp.GunicornWebWorker -b 127.0.0.1:PORT --chdir bench serve_reference:aiohttp_app
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


def answer(model, n_features, ctype, accept, body):
    """(status, content type, text) for one invocation: the same work under every framework."""
    try:
        if ctype == "text/csv":
            x = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
        elif ctype == "application/json":
            x = np.asarray(json.loads(body)["instances"], dtype=np.float64)
        else:
            return 415, "application/json", json.dumps({"error_code": "UNSUPPORTED_MEDIA_TYPE"})
        if x.ndim != 2 or x.shape[1] != n_features:
            raise ValueError(f"expected {n_features} columns")
    except (ValueError, KeyError) as e:
        return 400, "application/json", json.dumps({"error_code": "BAD_INPUT", "message": str(e)})
    y = model.predict(x)
    if "text/csv" in (accept or ""):
        return 200, "text/csv", "\n".join(repr(float(v)) for v in y) + "\n"
    return 200, "application/json", json.dumps({"predictions": y.tolist()})


app = None
fastapi_app = None
aiohttp_app = None
if os.environ.get("REF_MODEL"):
    with open(os.environ["REF_MODEL"], "rb") as f:
        bundle = pickle.load(f)
    model = bundle["model"]
    n_features = len(bundle["features"])

if os.environ.get("REF_MODEL") and os.environ.get("REF_FRAMEWORK", "flask") == "fastapi":
    from fastapi import FastAPI, Request
    from fastapi.responses import Response as FastResponse

    fastapi_app = FastAPI()

    @fastapi_app.get("/ping")
    async def fast_ping():
        return FastResponse(status_code=200)

    @fastapi_app.post("/invocations")
    async def fast_invocations(request: Request):
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip()
        body = (await request.body()).decode()
        status, mime, text = answer(model, n_features, ctype, request.headers.get("accept"), body)
        return FastResponse(content=text, status_code=status, media_type=mime)

if os.environ.get("REF_MODEL") and os.environ.get("REF_FRAMEWORK", "flask") == "aiohttp":
    from aiohttp import web

    async def aio_ping(_request):
        return web.Response(status=200)

    async def aio_invocations(request):
        ctype = (request.content_type or "").split(";")[0].strip()
        body = await request.text()
        status, mime, text = answer(model, n_features, ctype, request.headers.get("Accept"), body)
        return web.Response(text=text, status=status, content_type=mime)

    async def aiohttp_app():
        a = web.Application(client_max_size=8 * 1024 * 1024)
        a.router.add_get("/ping", aio_ping)
        a.router.add_post("/invocations", aio_invocations)
        return a

if os.environ.get("REF_MODEL") and os.environ.get("REF_FRAMEWORK", "flask") == "flask":
    from flask import Flask, Response, request

    app = Flask(__name__)

    @app.get("/ping")
    def ping():
        return Response(status=200)

    @app.post("/invocations")
    def invocations():
        ctype = (request.content_type or "").split(";")[0].strip()
        status, mime, text = answer(model, n_features, ctype, request.headers.get("Accept"), request.get_data(as_text=True))
        return Response(text, status=status, mimetype=mime)


if __name__ == "__main__" and sys.argv[1:2] == ["train"]:
    train(*sys.argv[2:8])
