-- 事業者確認: asking a device's vendor whether the fix can be applied. One inquiry covers
-- many findings (same vendor, many devices and CVEs); the vendor answers per finding.

CREATE TABLE inquiries (
    id         INTEGER PRIMARY KEY,
    vendor     TEXT NOT NULL,            -- the devices' 保守事業者
    question   TEXT NOT NULL,
    asked_on   TEXT NOT NULL,            -- YYYY-MM-DD
    asked_by   TEXT NOT NULL,
    status     TEXT NOT NULL,            -- open | answered
    created_at TEXT NOT NULL
);
CREATE INDEX inquiries_vendor ON inquiries (vendor, status);

CREATE TABLE inquiry_items (
    inquiry     INTEGER NOT NULL REFERENCES inquiries (id) ON DELETE CASCADE,
    finding     INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    verdict     TEXT,                    -- applicable | conditional | not_applicable | not_affected
    conditions  TEXT,
    answer      TEXT,
    answered_on TEXT,                    -- YYYY-MM-DD
    recorded_by TEXT,
    PRIMARY KEY (inquiry, finding)
);
CREATE INDEX inquiry_items_finding ON inquiry_items (finding);

-- The company a 事業者 (vendor) user works for, as the ledger's 保守事業者 names it: such a
-- user answers only that company's inquiries.
ALTER TABLE users ADD COLUMN vendor TEXT;
