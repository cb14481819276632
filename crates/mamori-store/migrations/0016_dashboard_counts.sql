-- The dashboard's counts read from indexes alone, not from the findings' rows with their
-- evidence (a million rows: seconds, read at random, against a fraction of a second):
-- open findings by KEV, level and category, and which are overdue (first_seen, state) …
CREATE INDEX findings_open_counts ON findings (status, kev, level, category, first_seen, state);
-- … and the trend: findings by category and the days they were first found and resolved.
CREATE INDEX findings_trend ON findings (category, first_seen, resolved_at, status);
