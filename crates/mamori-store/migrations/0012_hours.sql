-- Operating hours (guideline 8.3): schedules, imported national holidays, default schedules
-- per kind or department, and a compact presence timeline (state changes, not every probe).

CREATE TABLE schedules (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,               -- JSON: mamori_core::calendar::Schedule
    updated_at TEXT NOT NULL
);

-- Holidays imported from the Cabinet Office's syukujitsu.csv (the shipped years are in code).
CREATE TABLE holidays (
    date   TEXT PRIMARY KEY,                -- YYYY-MM-DD
    name   TEXT NOT NULL,
    source TEXT NOT NULL                    -- the file name
);

-- The schedule of devices whose ledger row names none: `kind:<code>` or `dept:<部署>`.
CREATE TABLE schedule_defaults (
    scope    TEXT PRIMARY KEY,
    schedule TEXT NOT NULL
);

-- Presence: one row per run of probes that saw the device up; `last_seen` moves on while it
-- stays up, `closed` is set when a probe finds it down or the watch was away too long.
CREATE TABLE presence (
    id        INTEGER PRIMARY KEY,
    asset     INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    up_from   TEXT NOT NULL,                -- local time, YYYY-MM-DDTHH:MM:SS
    last_seen TEXT NOT NULL,
    closed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX presence_asset ON presence (asset, up_from);

-- What the watch remembers per device between rounds (and across restarts).
CREATE TABLE watch_state (
    asset      INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    first_probe TEXT NOT NULL,
    last_probe TEXT NOT NULL,
    last_up    TEXT,
    off_since  TEXT                         -- up outside its schedule since (local time)
);
