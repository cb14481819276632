-- The remediation workflow: each finding's 対応状況 (beside the matching status: whether the
-- data still says the device is affected) and the history of every change to it.

ALTER TABLE findings ADD COLUMN state TEXT NOT NULL DEFAULT 'new';   -- mamori_core::remediation codes
ALTER TABLE findings ADD COLUMN planned_date TEXT;                   -- 適用予定日 (YYYY-MM-DD)
-- What matching already decided before this table existed: an update to a fixed version, a
-- vendor's "not affected".
UPDATE findings SET state = 'fixed' WHERE status = 'resolved' AND reason LIKE '{"code":"updated"%';
UPDATE findings SET state = 'not_affected' WHERE status = 'not_affected';
CREATE INDEX findings_state ON findings (state);

CREATE TABLE finding_events (
    id         INTEGER PRIMARY KEY,
    finding    INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,            -- a user name, os:NAME, or match
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    reason     TEXT,                     -- why, as the person wrote it (or a reason code)
    detail     TEXT NOT NULL             -- JSON: planned date, VEX justification, …
);
CREATE INDEX finding_events_finding ON finding_events (finding);
