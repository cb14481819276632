-- The device ledger (機器台帳), mamori's users, the audit log, stock-takes and imports.
-- Portable SQL: TEXT timestamps in RFC 3339 UTC, INTEGER booleans, no SQLite-only types.

CREATE TABLE assets (
    id                       INTEGER PRIMARY KEY,
    asset_id                 TEXT NOT NULL UNIQUE,
    kind                     TEXT NOT NULL,
    name                     TEXT NOT NULL,
    purpose                  TEXT,
    department               TEXT,
    location                 TEXT,
    owner                    TEXT,
    manufacturer             TEXT,
    model                    TEXT,
    os                       TEXT,
    os_version               TEXT,
    status                   TEXT NOT NULL,
    vendor                   TEXT,
    vendor_contact           TEXT,
    remote_maintenance       INTEGER,
    external_access          INTEGER,
    eos_date                 TEXT,
    schedule                 TEXT,
    criticality              TEXT,
    patient_data             INTEGER,
    boot_password            TEXT,
    default_password_changed TEXT,
    mds_sds                  TEXT,
    sbom                     TEXT,
    last_stocktake           TEXT,
    notes                    TEXT,
    custom                   TEXT NOT NULL DEFAULT '{}',
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_status ON assets (status);
CREATE INDEX assets_department ON assets (department);

-- Software and firmware on a device. source: ledger | sbom | scan | collector.
-- Ledger rows with a CPE came from the CPE column; those without, from the software column.
CREATE TABLE asset_components (
    id         INTEGER PRIMARY KEY,
    asset      INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT,
    cpe        TEXT,
    purl       TEXT,
    source     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX asset_components_asset ON asset_components (asset);
CREATE INDEX asset_components_cpe ON asset_components (cpe);

-- IP addresses, MAC addresses and host names; several of each per device.
CREATE TABLE asset_addresses (
    asset    INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('ip', 'mac', 'hostname')),
    position INTEGER NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (asset, kind, position)
);
CREATE INDEX asset_addresses_value ON asset_addresses (kind, value);

CREATE TABLE asset_status_history (
    id          INTEGER PRIMARY KEY,
    asset       INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    changed_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT
);
CREATE INDEX asset_status_history_asset ON asset_status_history (asset);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT,
    roles                TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

-- Append-only; each row's hash covers the previous row's hash (a hash chain).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE stocktakes (
    id         INTEGER PRIMARY KEY,
    taken_on   TEXT NOT NULL,
    taken_by   TEXT NOT NULL,
    note       TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE stocktake_results (
    stocktake INTEGER NOT NULL REFERENCES stocktakes (id) ON DELETE CASCADE,
    asset     INTEGER NOT NULL REFERENCES assets (id),
    result    TEXT NOT NULL,
    note      TEXT,
    PRIMARY KEY (stocktake, asset)
);

CREATE TABLE imports (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    format    TEXT NOT NULL,
    added     INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    retired   INTEGER NOT NULL,
    skipped   INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
