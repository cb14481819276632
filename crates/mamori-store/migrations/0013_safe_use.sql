-- Safe-use checks (guideline 8.3): approvals of default-credential checks by the 企画管理者,
-- devices never tried, attestations of initial settings (history kept: the newest per device
-- and item is current), collector keys, and host reports from the collector.

CREATE TABLE cred_approvals (
    id           INTEGER PRIMARY KEY,
    scope        TEXT NOT NULL,             -- CIDRs, ranges, addresses
    exclude      TEXT,                      -- the same, never tried
    windows      TEXT NOT NULL,             -- JSON array of weekly ranges ("mon-fri 19:00-07:00")
    max_attempts INTEGER NOT NULL,
    delay_ms     INTEGER NOT NULL,
    note         TEXT,
    approved_by  TEXT NOT NULL,
    approved_at  TEXT NOT NULL,
    revoked_by   TEXT,
    revoked_at   TEXT
);

CREATE TABLE cred_exclusions (
    asset      INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    note       TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE attestations (
    id            INTEGER PRIMARY KEY,
    asset         INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    item          TEXT NOT NULL,            -- mamori_core::attest::AttestItem code
    value         TEXT NOT NULL,            -- AttestValue code
    actor         TEXT NOT NULL,
    at            TEXT NOT NULL,
    evidence      TEXT,                     -- a note: where the evidence is
    attachment    TEXT,                     -- a file's name, kept in the data directory
    attachment_sha256 TEXT,                 -- under this SHA-256 (as inquiry attachments)
    interval_days INTEGER NOT NULL          -- re-confirm after this many days
);
CREATE INDEX attestations_asset ON attestations (asset, item, at);

CREATE TABLE collector_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,               -- Ed25519, hex
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE host_reports (
    id           INTEGER PRIMARY KEY,
    asset        INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    collected_at TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    key_name     TEXT,                      -- the collector key that signed it
    digest       TEXT NOT NULL,             -- SHA-256 of the signed body
    report       TEXT NOT NULL,             -- JSON
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);
CREATE INDEX host_reports_asset ON host_reports (asset, collected_at);
