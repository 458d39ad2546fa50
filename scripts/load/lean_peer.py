"""The load test's lean peer: the least a Python scoring service can do per request —
FastAPI on uvicorn, a pydantic body of 40 floats (the model's encoded row, already computed by
the caller), and scikit-learn's `LogisticRegression.predict_proba` on it as a NumPy row.

It does no parsing of a lead, no feature derivation, no rules, calibration or explanation: a
floor for a Python service, so the ratio against it is the honest one (the pandas-per-request
peer, peer.py, is what such services usually look like).
"""

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression

WIDTH = 40


def train() -> LogisticRegression:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5000, WIDTH))
    w = rng.normal(size=WIDTH)
    y = rng.random(5000) < 1 / (1 + np.exp(-(x @ w) / 4))
    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y)


class Row(BaseModel):
    id: str
    features: list[float] = Field(min_length=WIDTH, max_length=WIDTH)


MODEL = train()
app = FastAPI()


@app.post("/v1/score")
async def score(row: Row) -> dict:
    propensity = float(MODEL.predict_proba(np.asarray([row.features]))[0, 1])
    return {"id": row.id, "propensity": propensity}


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
