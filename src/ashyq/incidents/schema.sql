-- Account incidents reported by people (kept in the store's DuckDB file). Not derived from the
-- measurement archive: every write is also appended to DATA/journal/incidents.jsonl, from
-- which this table is refilled if the file is ever remade without it.
CREATE TABLE IF NOT EXISTS incidents (
    incident_id    VARCHAR PRIMARY KEY,
    platform       VARCHAR NOT NULL,            -- canonical: whatsapp, instagram, facebook, ...
    type           VARCHAR NOT NULL,            -- account_blocked | locked_out | post_removed |
                                                -- copyright_complaint | message_flood | call_flood
    occurred_at    TIMESTAMP NOT NULL,          -- UTC, start of the period `precision` names
    "precision"    VARCHAR NOT NULL,            -- minute | hour | day | month
    account        VARCHAR,                     -- as given, or "hmac-sha256:<hex>" (keyed) if asked
    account_hashed BOOLEAN NOT NULL,
    person         VARCHAR,                     -- NULL: anonymous
    outlet         VARCHAR,
    country_codes  VARCHAR[],                   -- ISO 3166 alpha-2 of the foreign numbers
    prefixes       VARCHAR[],                   -- calling-code prefixes, "+44"
    numbers        VARCHAR[],                   -- the foreign numbers themselves, if given
    complainant    VARCHAR,                     -- who filed the complaint (copyright, ...)
    notice_text    VARCHAR,                     -- the platform's notice, verbatim
    source         VARCHAR,                     -- where the report came from
    status         VARCHAR NOT NULL,            -- draft | in_review | verified
    notes          VARCHAR,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS incident_meta (
    key   VARCHAR PRIMARY KEY,                  -- "account_salt"
    value VARCHAR
);
