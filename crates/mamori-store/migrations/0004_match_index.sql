-- What incremental matching looks up: devices holding a product, records imported and
-- devices changed since the last run, and whether a finding's content changed.

-- A component's CPE vendor and product (lower case), filled from its CPE when written.
ALTER TABLE asset_components ADD COLUMN vendor TEXT;
ALTER TABLE asset_components ADD COLUMN product TEXT;
CREATE INDEX asset_components_product ON asset_components (vendor, product);

CREATE INDEX vulnerabilities_imported ON vulnerabilities (imported_at);
CREATE INDEX assets_updated ON assets (updated_at);

-- SHA-256 of what a match wrote (component, confidence, score, sources, evidence): a run
-- rewrites a finding only when this changes.
ALTER TABLE findings ADD COLUMN digest TEXT;
-- The vulnerabilities with open findings (a full match resolves those nothing supports),
-- and the count of open findings; it replaces (status, level), which nothing reads, so a
-- finding written updates one index fewer.
CREATE INDEX findings_status_vuln ON findings (status, vuln);
DROP INDEX findings_status;

-- VEX statements imported with a device's SBOM (CycloneDX `vulnerabilities` with an
-- analysis): what the device's maker says of a vulnerability in it.
CREATE TABLE asset_vex (
    asset         INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    vuln          TEXT NOT NULL,
    state         TEXT NOT NULL,            -- not_affected | false_positive | exploitable | resolved | in_triage …
    justification TEXT,
    detail        TEXT,
    refs          TEXT NOT NULL,            -- JSON array of bom-refs
    origin        TEXT NOT NULL,            -- the file it came from
    PRIMARY KEY (asset, position)
);
