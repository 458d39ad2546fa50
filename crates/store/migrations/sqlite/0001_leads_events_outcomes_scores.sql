-- The lead store, version 1 (SQLite). Times are milliseconds since the Unix epoch, UTC.
-- `seq` orders rows as they arrived: training reads leads and events in that order, as the
-- file readers read rows in file order.
CREATE TABLE leads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    -- The attributes as a JSON object (text, keys in the order they were sent);
    -- NULL for a stub lead that only events or an outcome have named so far.
    attributes TEXT,
    created_at INTEGER,
    updated_at INTEGER NOT NULL
);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id TEXT NOT NULL REFERENCES leads (id),
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    event_id TEXT UNIQUE,
    value REAL
);
CREATE INDEX events_by_lead ON events (lead_id, at);

CREATE TABLE outcomes (
    lead_id TEXT PRIMARY KEY REFERENCES leads (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('converted', 'disqualified')),
    at INTEGER NOT NULL,
    reason TEXT,
    recorded_at INTEGER NOT NULL
);

CREATE TABLE score_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id TEXT,
    scored_at INTEGER NOT NULL,
    as_of INTEGER NOT NULL,
    source TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    rules_hash TEXT NOT NULL,
    propensity REAL NOT NULL,
    rule_score REAL NOT NULL,
    stage TEXT NOT NULL,
    route TEXT,
    -- The top reasons, a JSON array of {kind, name, value}.
    reasons TEXT NOT NULL,
    holdout INTEGER NOT NULL
);
CREATE INDEX score_log_by_lead ON score_log (lead_id, scored_at);
CREATE INDEX score_log_by_time ON score_log (scored_at);
