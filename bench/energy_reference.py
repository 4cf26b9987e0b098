# The gradient-boosting reference of `npm run bench -- reports-energy`: scikit-learn's
# HistGradientBoostingRegressor on the same hourly drivers (benchmark only, never a dependency).
# stdin: {"train": {"X": [[...]], "y": [...]}, "test": {"X": [[...]]}, "categorical": [bool...]}
# stdout: {"pred": [...], "seconds": s, "sklearn": version}
import json, sys, time
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor

d = json.load(sys.stdin)
t0 = time.perf_counter()
m = HistGradientBoostingRegressor(random_state=0, categorical_features=np.array(d["categorical"]))
m.fit(np.array(d["train"]["X"]), np.array(d["train"]["y"]))
pred = m.predict(np.array(d["test"]["X"]))
json.dump({"pred": pred.tolist(), "seconds": time.perf_counter() - t0, "sklearn": sklearn.__version__}, sys.stdout)
