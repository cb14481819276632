-- Vulnerability intelligence: records from NVD, JVN and CSAF, their applicability criteria
-- kept exactly, CISA KEV, FIRST EPSS, and per-source provenance and sync state.

CREATE TABLE vulnerabilities (
    id          TEXT PRIMARY KEY,          -- CVE-…, JVNDB-…
    source      TEXT NOT NULL,             -- nvd | jvn | csaf
    assigner    TEXT,
    published   TEXT,
    modified    TEXT,
    status      TEXT,
    origin      TEXT NOT NULL,             -- file or URL it was last read from
    imported_at TEXT NOT NULL
);
CREATE INDEX vulnerabilities_modified ON vulnerabilities (modified);

CREATE TABLE vuln_aliases (
    vuln  TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    PRIMARY KEY (vuln, alias)
);
CREATE INDEX vuln_aliases_alias ON vuln_aliases (alias);

-- Texts per language (kind: title | description | impact | solution).
CREATE TABLE vuln_texts (
    vuln     TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    position INTEGER NOT NULL,
    lang     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (vuln, kind, position)
);

CREATE TABLE vuln_cvss (
    vuln       TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    version    TEXT NOT NULL,
    vector     TEXT NOT NULL,
    base_score REAL NOT NULL,
    severity   TEXT,
    source     TEXT,
    is_primary INTEGER NOT NULL,
    PRIMARY KEY (vuln, position)
);

CREATE TABLE vuln_cwes (
    vuln TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    cwe  TEXT NOT NULL,
    PRIMARY KEY (vuln, cwe)
);

CREATE TABLE vuln_references (
    vuln     TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url      TEXT NOT NULL,
    source   TEXT,
    tags     TEXT NOT NULL,                 -- JSON array
    PRIMARY KEY (vuln, position)
);

-- Applicability, exactly as published: configurations → nodes → CPE matches.
CREATE TABLE vuln_configurations (
    vuln     TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    config   INTEGER NOT NULL,
    operator TEXT NOT NULL,
    negate   INTEGER NOT NULL,
    PRIMARY KEY (vuln, config)
);

CREATE TABLE vuln_nodes (
    vuln     TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    config   INTEGER NOT NULL,
    node     INTEGER NOT NULL,
    operator TEXT NOT NULL,
    negate   INTEGER NOT NULL,
    PRIMARY KEY (vuln, config, node)
);

CREATE TABLE vuln_cpe_matches (
    vuln                    TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    config                  INTEGER NOT NULL,
    node                    INTEGER NOT NULL,
    position                INTEGER NOT NULL,
    vulnerable              INTEGER NOT NULL,
    criteria                TEXT NOT NULL,
    vendor                  TEXT NOT NULL,  -- from criteria, for candidate look-up
    product                 TEXT NOT NULL,
    version_start_including TEXT,
    version_start_excluding TEXT,
    version_end_including   TEXT,
    version_end_excluding   TEXT,
    match_criteria_id       TEXT,
    PRIMARY KEY (vuln, config, node, position)
);
CREATE INDEX vuln_cpe_matches_product ON vuln_cpe_matches (vendor, product);

-- Affected products as the source names them (JVN, CSAF): no exact version logic.
CREATE TABLE vuln_affected (
    vuln     TEXT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    vendor   TEXT,
    product  TEXT,
    cpe      TEXT,
    versions TEXT NOT NULL,                 -- JSON array of version texts
    PRIMARY KEY (vuln, position)
);
CREATE INDEX vuln_affected_cpe ON vuln_affected (cpe);

-- Advisories (CSAF 2.0): products, vulnerabilities, product status, remediations.
CREATE TABLE advisories (
    id              TEXT PRIMARY KEY,        -- tracking id, e.g. ICSMA-17-082-01
    source          TEXT NOT NULL,           -- csaf
    title           TEXT NOT NULL,
    publisher       TEXT,
    lang            TEXT,
    initial_release TEXT,
    current_release TEXT,
    version         TEXT,
    url             TEXT,
    origin          TEXT NOT NULL,
    imported_at     TEXT NOT NULL
);

CREATE TABLE advisory_products (
    advisory      TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    product_id    TEXT NOT NULL,
    name          TEXT NOT NULL,
    vendor        TEXT,
    product       TEXT,
    version       TEXT,
    version_range TEXT,
    cpe           TEXT,
    purl          TEXT,
    PRIMARY KEY (advisory, product_id)
);

CREATE TABLE advisory_vulns (
    advisory TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    cve      TEXT,
    title    TEXT,
    cwe      TEXT,
    summary  TEXT,
    cvss     TEXT NOT NULL,                  -- JSON array of CVSS metrics
    PRIMARY KEY (advisory, position)
);
CREATE INDEX advisory_vulns_cve ON advisory_vulns (cve);

CREATE TABLE advisory_product_status (
    advisory   TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    vuln       INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    PRIMARY KEY (advisory, vuln, product_id, status)
);

CREATE TABLE advisory_remediations (
    advisory    TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    vuln        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    category    TEXT NOT NULL,
    details     TEXT NOT NULL,
    url         TEXT,
    product_ids TEXT NOT NULL,               -- JSON array
    PRIMARY KEY (advisory, vuln, position)
);

-- Alerts from news-style feeds (IPA, JPCERT/CC, NISC), keyed by their link.
CREATE TABLE alerts (
    link        TEXT PRIMARY KEY,
    feed        TEXT NOT NULL,
    title       TEXT NOT NULL,
    summary     TEXT,
    published   TEXT,
    origin      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE alert_cves (
    alert TEXT NOT NULL REFERENCES alerts (link) ON DELETE CASCADE,
    cve   TEXT NOT NULL,
    PRIMARY KEY (alert, cve)
);
CREATE INDEX alert_cves_cve ON alert_cves (cve);

CREATE TABLE kev (
    cve_id             TEXT PRIMARY KEY,
    vendor_project     TEXT NOT NULL,
    product            TEXT NOT NULL,
    vulnerability_name TEXT NOT NULL,
    date_added         TEXT NOT NULL,
    short_description  TEXT NOT NULL,
    required_action    TEXT NOT NULL,
    due_date           TEXT,
    known_ransomware   INTEGER NOT NULL,
    notes              TEXT NOT NULL,
    cwes               TEXT NOT NULL,       -- JSON array
    catalog_version    TEXT NOT NULL
);

CREATE TABLE epss (
    cve_id        TEXT PRIMARY KEY,
    epss          REAL NOT NULL,
    percentile    REAL,
    score_date    TEXT,
    model_version TEXT
);

-- One row per file or download read into the store.
CREATE TABLE feed_imports (
    id        INTEGER PRIMARY KEY,
    source    TEXT NOT NULL,
    origin    TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    at        TEXT NOT NULL,
    records   INTEGER NOT NULL,
    added     INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    skipped   INTEGER NOT NULL,
    warnings  TEXT NOT NULL                 -- JSON array of the first warnings
);

-- Per-source sync state (for `feeds status` and incremental fetching).
CREATE TABLE feed_state (
    source        TEXT PRIMARY KEY,
    last_success  TEXT,
    last_error    TEXT,
    last_error_at TEXT,
    cursor        TEXT                       -- e.g. NVD lastModEndDate of the last window
);
