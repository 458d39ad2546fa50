-- The lead store, version 2 (PostgreSQL): a lead may hold several outcomes (a bad-timing
-- disqualification, then a later outcome once it re-engaged; docs/history.md). One outcome
-- per lead and instant; the policy between them is the code's (qualify-core's history
-- module). `seq` orders outcomes as they arrived; the rows of version 1 keep their order.
CREATE TABLE outcomes_v2 (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('converted', 'disqualified')),
    at BIGINT NOT NULL,
    reason TEXT,
    recorded_at BIGINT NOT NULL,
    UNIQUE (lead_id, at)
);
INSERT INTO outcomes_v2 (lead_id, outcome, at, reason, recorded_at)
    SELECT lead_id, outcome, at, reason, recorded_at FROM outcomes ORDER BY recorded_at, lead_id;
DROP TABLE outcomes;
ALTER TABLE outcomes_v2 RENAME TO outcomes;
CREATE INDEX outcomes_by_time ON outcomes (at);
