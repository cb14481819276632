-- Network audit (guideline 8.3): scans with the policy they ran under, what each address
-- answered, per-device and per-kind allowed services, and findings that are not about a
-- vulnerability (and may concern an address that is in no ledger row).

-- スキャン除外: a ledger column; such devices are never probed.
ALTER TABLE assets ADD COLUMN scan_exclude INTEGER;

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,             -- mamori | nmap
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,             -- running | complete | incomplete
    stopped     TEXT,                      -- interrupted | outside_window | killed
    vantage     TEXT NOT NULL,             -- internal | external
    policy      TEXT NOT NULL,             -- JSON: scope, ports, rate, windows, … (nmap: its args)
    actor       TEXT NOT NULL,
    pid         INTEGER,                   -- the process running it, while running
    file        TEXT,                      -- an imported file's name
    hosts       INTEGER NOT NULL DEFAULT 0,
    up          INTEGER NOT NULL DEFAULT 0,
    open_ports  INTEGER NOT NULL DEFAULT 0,
    probes      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE scan_hosts (
    scan    INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    addr    TEXT NOT NULL,
    up      INTEGER NOT NULL,
    asset   INTEGER REFERENCES assets (id) ON DELETE SET NULL,   -- the ledger device it is
    result  TEXT NOT NULL,                 -- JSON: mamori_core::scan::HostResult
    PRIMARY KEY (scan, addr)
);
CREATE INDEX scan_hosts_asset ON scan_hosts (asset);

-- 想定外のサービス: what may run. scope is `kind:<AssetKind code>` or `asset:<internal id>`.
CREATE TABLE allowed_services (
    scope     TEXT NOT NULL,
    port      INTEGER NOT NULL,
    transport TEXT NOT NULL,
    note      TEXT,
    PRIMARY KEY (scope, port, transport)
);

-- Findings may now be 8.3 findings (category '8.3', vuln '8.3:<check>'), and an
-- unregistered address has no device: asset becomes nullable. SQLite cannot drop a NOT NULL,
-- so the table is rebuilt (foreign keys are off while migrations run; see migrate()).
CREATE TABLE findings_new (
    id            INTEGER PRIMARY KEY,
    asset         INTEGER REFERENCES assets (id) ON DELETE CASCADE,
    component_key TEXT NOT NULL,
    component     TEXT NOT NULL,
    version       TEXT,
    cpe           TEXT,
    source        TEXT NOT NULL,            -- ledger | sbom | scan
    vuln          TEXT NOT NULL,
    status        TEXT NOT NULL,
    confidence    TEXT NOT NULL,
    score         REAL NOT NULL,
    level         TEXT NOT NULL,
    kev           INTEGER NOT NULL,
    sources       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    reason        TEXT,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    resolved_at   TEXT,
    digest        TEXT,
    state         TEXT NOT NULL DEFAULT 'new',
    planned_date  TEXT,
    flag          TEXT,
    category      TEXT NOT NULL DEFAULT 'vuln',   -- vuln (8.2) | 8.3
    UNIQUE (asset, component_key, vuln)
);
INSERT INTO findings_new (id, asset, component_key, component, version, cpe, source, vuln,
    status, confidence, score, level, kev, sources, evidence, reason, first_seen, last_seen,
    resolved_at, digest, state, planned_date, flag)
SELECT id, asset, component_key, component, version, cpe, source, vuln, status, confidence,
    score, level, kev, sources, evidence, reason, first_seen, last_seen, resolved_at, digest,
    state, planned_date, flag
FROM findings;
DROP TABLE findings;
ALTER TABLE findings_new RENAME TO findings;
CREATE INDEX findings_vuln ON findings (vuln);
CREATE INDEX findings_status_vuln ON findings (status, vuln);
CREATE INDEX findings_state ON findings (state);
-- An unregistered address's finding: NULLs are distinct in UNIQUE, so its key is unique here.
CREATE UNIQUE INDEX findings_unregistered ON findings (component_key, vuln) WHERE asset IS NULL;
