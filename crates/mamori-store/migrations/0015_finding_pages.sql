-- Pages of findings, most urgent first, without sorting them all: open findings by score.
CREATE INDEX findings_status_score ON findings (status, score DESC, id);
