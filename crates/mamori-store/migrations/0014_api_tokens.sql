-- API tokens: a user's keys for the REST API. Only the SHA-256 of a token is kept (tokens are
-- 256 random bits, so a plain hash is enough); a token acts with its user's roles.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (username);
