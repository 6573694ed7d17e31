-- The Idempotency-Key of each POST /api/posts that sent one, with the post it stored: a retry with
-- the same key finds that post instead of storing a second one. Keys are case-sensitive (binary),
-- the fingerprint tells a retry from a different request under a reused key, and created_at lets
-- the app forget keys after their retention (IDEMPOTENCY_KEY_TTL_HOURS).
CREATE TABLE post_idempotency_keys (
    idempotency_key VARBINARY(128) NOT NULL,
    fingerprint CHAR(64) NOT NULL,
    post_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (idempotency_key),
    KEY by_created_at (created_at),
    CONSTRAINT post_idempotency_keys_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = ascii;
