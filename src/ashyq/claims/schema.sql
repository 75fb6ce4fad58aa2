-- Claims extracted from news reports (kept in the store's DuckDB file).
-- Unlike the store's own tables these are not derived from the measurement archive: every
-- saved claim is also appended to DATA/journal/claims.jsonl, from which this table is
-- refilled if the file is ever remade without it.
CREATE TABLE IF NOT EXISTS claims (
    claim_id             VARCHAR PRIMARY KEY,   -- stable hash of source, kind, targets, evidence spans
    source               VARCHAR NOT NULL,      -- file name, URL or "-"
    report_sha256        VARCHAR,
    report_language      VARCHAR,               -- kk | ru | en | ar | mixed
    published            DATE,
    kind                 VARCHAR NOT NULL,      -- blocking | throttling | outage | account
    targets              VARCHAR[] NOT NULL,
    not_affected         VARCHAR[],
    places               VARCHAR[],
    scope                VARCHAR,               -- national | local | NULL
    "date"               DATE,
    date_text            VARCHAR,
    date_source          VARCHAR,               -- explicit | relative | context | published | partial
    official_explanation VARCHAR,
    hedged               BOOLEAN,
    language             VARCHAR,
    confidence           DOUBLE,
    evidence             VARCHAR,               -- JSON: [{"start","end","text","role"}]
    saved_at             TIMESTAMP NOT NULL,
    isps                 VARCHAR[],             -- providers the report names: "Kazakhtelecom"
    asns                 VARCHAR[]              -- their networks: "AS9198"
);
-- columns added after the first version of this table
ALTER TABLE claims ADD COLUMN IF NOT EXISTS isps VARCHAR[];
ALTER TABLE claims ADD COLUMN IF NOT EXISTS asns VARCHAR[];
