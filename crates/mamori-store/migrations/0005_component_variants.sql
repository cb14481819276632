-- Distinct components: 2,000 PCs with the same software share one variant, so an
-- incremental match finds the devices a changed record can affect by testing its criteria
-- against the variants of the products it names (hundreds) instead of every device's
-- components (hundreds of thousands), then reads only the holders of the variants it hits.
CREATE TABLE component_variants (
    id        INTEGER PRIMARY KEY,
    vendor    TEXT NOT NULL,            -- the CPE's vendor and product, lower case
    product   TEXT NOT NULL,
    cpe       TEXT NOT NULL,
    -- The version matching gives a CPE without one: the component's version, or for a
    -- ledger CPE the device's バージョン column. '' when none.
    version   TEXT NOT NULL,
    source    TEXT NOT NULL,            -- ledger | sbom | scan | collector
    purl_type TEXT NOT NULL,            -- the package URL's type (deb, rpm, npm, …); '' when none
    UNIQUE (vendor, product, cpe, version, source, purl_type)
);

-- Each component with a CPE names its variant (filled on upgrade, and when written).
ALTER TABLE asset_components ADD COLUMN variant INTEGER REFERENCES component_variants (id);
CREATE INDEX asset_components_variant ON asset_components (variant, asset, position);
