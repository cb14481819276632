-- 代替策 and リスク受容: proposed by one person, approved (or rejected) by a person with the
-- approving role, valid until a review date; on that date the findings reopen, flagged.

CREATE TABLE exceptions (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,            -- mitigated | risk_accepted
    measures        TEXT NOT NULL,            -- JSON array of measure codes
    note            TEXT,
    residual_risk   TEXT NOT NULL,            -- low | medium | high
    review_date     TEXT NOT NULL,            -- 見直し期限 (YYYY-MM-DD)
    status          TEXT NOT NULL,            -- proposed | approved | rejected | expired
    requested_by    TEXT NOT NULL,
    requested_at    TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT,
    decision_reason TEXT
);
CREATE INDEX exceptions_status_review ON exceptions (status, review_date);

CREATE TABLE exception_findings (
    exception INTEGER NOT NULL REFERENCES exceptions (id) ON DELETE CASCADE,
    finding   INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    PRIMARY KEY (exception, finding)
);
CREATE INDEX exception_findings_finding ON exception_findings (finding);

-- Why a finding needs a look although nobody moved it (exception_expired); cleared by the
-- next change of its state.
ALTER TABLE findings ADD COLUMN flag TEXT;
