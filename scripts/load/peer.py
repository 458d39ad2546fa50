"""The load test's peer: the service data scientists write today — FastAPI on uvicorn, a
scikit-learn pipeline (impute, scale, one-hot, L2 logistic regression) trained at start-up on
the same sample data, scoring one lead per request with `predict_proba` on a one-row DataFrame.

It reads the same canonical lead record as `qualify serve` and derives the same flat columns
(`<type>_count`, days since the last activity, email domain type) so both do comparable work.
It has no rules, calibration, validation or explanations: it is a lower bound on the work a
Python service does per lead, not a re-implementation of qualify.
"""

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from fastapi import FastAPI, Request
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[2]
CATEGORICAL = ["industry", "country", "crm", "marketing_automation", "email_domain_type"]
ACTIVITIES = ["website_visit", "pricing_page_visit", "careers_page_visit", "demo_request",
              "webinar_attended", "case_study_download", "ebook_download", "blog_download",
              "email_open", "newsletter_signup", "trial_signup", "teammate_invited",
              "core_feature_used"]
NUMERIC = ["employees", "annual_revenue", "timeline_days", "days_since_last_activity"] + \
    [f"{a}_count" for a in ACTIVITIES]
FREE_MAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com"}


def train() -> Pipeline:
    data = pd.read_csv(ROOT / "data/sample/leads.csv")
    as_of = pd.Timestamp("2026-06-30", tz="UTC")
    last = pd.to_datetime(data["last_activity_at"], utc=True)
    data["days_since_last_activity"] = (as_of - last).dt.total_seconds() / 86400
    features = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                              OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
    ])
    model = make_pipeline(features, LogisticRegression(C=0.1, max_iter=1000))
    return model.fit(data[NUMERIC + CATEGORICAL], data["converted"])


def flat(lead: dict) -> dict:
    row = {c: lead.get(c) for c in ["employees", "annual_revenue", "timeline_days"] + CATEGORICAL}
    email = lead.get("email") or ""
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else None
    row["email_domain_type"] = None if domain is None else ("personal" if domain in FREE_MAIL else "business")
    counts = {a: 0 for a in ACTIVITIES}
    last = None
    for activity in lead.get("activities") or []:
        counts[activity["type"]] = counts.get(activity["type"], 0) + 1
        at = datetime.fromisoformat(activity["at"].replace("Z", "+00:00"))
        last = at if last is None or at > last else last
    for a in ACTIVITIES:
        row[f"{a}_count"] = counts[a]
    now = datetime.now(timezone.utc)
    row["days_since_last_activity"] = None if last is None else (now - last).total_seconds() / 86400
    return row


MODEL = train()
app = FastAPI()


@app.post("/v1/score")
async def score(request: Request) -> dict:
    lead = await request.json()
    frame = pd.DataFrame([flat(lead)], columns=NUMERIC + CATEGORICAL)
    propensity = float(MODEL.predict_proba(frame)[0, 1])
    return {"id": lead.get("id"), "propensity": propensity}


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
