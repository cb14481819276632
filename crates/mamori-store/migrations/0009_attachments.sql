-- Files attached to an inquiry (the vendor's letter, a test report): kept in the data
-- directory under their SHA-256, which is recorded here and checked when read.
CREATE TABLE inquiry_attachments (
    id       INTEGER PRIMARY KEY,
    inquiry  INTEGER NOT NULL REFERENCES inquiries (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,              -- the file's name as given
    sha256   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX inquiry_attachments_inquiry ON inquiry_attachments (inquiry);
