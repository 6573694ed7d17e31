-- Posts, listed newest first with an id cursor: `ORDER BY id DESC` and `WHERE id < ?` walk the
-- primary key, InnoDB's clustered index, backwards, so the listing needs no sort and no extra index.
-- created_at is UTC, written by the app.
CREATE TABLE posts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    author VARCHAR(64) NOT NULL,
    body VARCHAR(2000) NOT NULL,
    created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
