-- Findings: which device is (or may be) affected by which vulnerability, through which
-- component, how sure and how urgent; kept across re-matching so that an update to a fixed
-- version resolves the finding with its reason instead of deleting it.

CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    asset         INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    component_key TEXT NOT NULL,            -- part:vendor:product, stable across versions
    component     TEXT NOT NULL,            -- as shown: product and version
    version       TEXT,                     -- the version last evaluated
    cpe           TEXT,                     -- the component's CPE as matched
    source        TEXT NOT NULL,            -- where the component came from: ledger | sbom
    vuln          TEXT NOT NULL,            -- CVE id, or the source's id when there is none
    status        TEXT NOT NULL,            -- open | resolved | not_affected
    confidence    TEXT NOT NULL,            -- high | medium | low (要確認)
    score         REAL NOT NULL,
    level         TEXT NOT NULL,            -- urgent | high | medium | low
    kev           INTEGER NOT NULL,
    sources       TEXT NOT NULL,            -- JSON array: which records support it
    evidence      TEXT NOT NULL,            -- JSON: criteria, bounds, doubts, priority factors
    reason        TEXT,                     -- why resolved / not affected
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    resolved_at   TEXT,
    UNIQUE (asset, component_key, vuln)
);
CREATE INDEX findings_vuln ON findings (vuln);
CREATE INDEX findings_status ON findings (status, level);

-- Facts about a component from where it came (SBOM file, bom-ref, purl type), as JSON.
ALTER TABLE asset_components ADD COLUMN detail TEXT;
