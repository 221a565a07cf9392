-- +goose Up
-- Full-text search over event payloads and widget callback arguments. A
-- background indexer (models/search_index.go) follows the event log and the
-- callbacks by sequence and fills these tables in its own transactions, so the
-- webhook's acknowledgement never pays for indexing.

-- One row per indexed event or callback; doc_id is also the full-text docid.
-- The unique (kind, source_id) index refuses to index anything twice.
CREATE TABLE search_docs (
    doc_id     INTEGER PRIMARY KEY,
    kind       TEXT      NOT NULL,
    source_id  INTEGER   NOT NULL,
    type       TEXT      NOT NULL,
    user_key   INTEGER,
    account_id TEXT      NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX search_docs_source ON search_docs (kind, source_id);
CREATE INDEX search_docs_user ON search_docs (user_key, doc_id);
CREATE INDEX search_docs_type ON search_docs (type, doc_id);

-- FTS4, not FTS5: mattn/go-sqlite3 compiles FTS5 only with the sqlite_fts5
-- build tag, and plain `go build` / `go test` must work. FTS4 is compiled in by
-- default. The text is the payload's values (not its keys), already split
-- into lower-case words by the indexer; content is kept so rows can be deleted.
CREATE VIRTUAL TABLE search_text USING fts4(body, tokenize=unicode61);

-- How far the indexer has got in each source; it commits with its writes.
CREATE TABLE search_positions (
    source   TEXT    PRIMARY KEY,
    position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO search_positions (source, position) VALUES ('events', 0), ('callbacks', 0);

-- +goose Down
DROP TABLE search_positions;
DROP TABLE search_text;
DROP TABLE search_docs;
