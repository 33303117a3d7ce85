"""Run by another XGBoost's interpreter: load a model file, score a CSV, save the scores."""

import sys

import numpy as np
import xgboost as xgb

model_path, rows_path, out_path = sys.argv[1:4]
booster = xgb.Booster()
booster.load_model(model_path)
rows = np.loadtxt(rows_path, delimiter=",", ndmin=2)
np.save(out_path, booster.predict(xgb.DMatrix(rows)))
print(xgb.__version__)
