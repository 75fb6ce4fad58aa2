-- ashyq store schema (DuckDB dialect). Every table here is DERIVED from the raw archive
-- (data/raw/YYYY/MM/DD/*.jsonl.gz) and can be remade with `ashyq store rebuild`.
-- All SQL of the store lives in this file and in store/sql.py, so that another backend
-- (ClickHouse) needs only those two files rewritten.

-- One row per distinct measurement (identity: `uid`).
CREATE TABLE IF NOT EXISTS measurements (
    uid                    VARCHAR PRIMARY KEY, -- measurement_uid if given, else sha256 of identity fields
    measurement_uid        VARCHAR,             -- OONI's measurement_uid as given (may be NULL)
    report_id              VARCHAR,
    input                  VARCHAR,
    target                 VARCHAR,             -- lower-case host of `input` (or the app name)
    test_name              VARCHAR,
    probe_cc               VARCHAR,
    probe_asn              VARCHAR,             -- "AS9198"
    probe_network_name     VARCHAR,
    region                 VARCHAR,             -- annotations.region
    measurement_start_time TIMESTAMP,           -- UTC
    source                 VARCHAR,             -- 'probe' | 'ooni'
    software_name          VARCHAR,
    software_version       VARCHAR,
    received_at            TIMESTAMP,           -- when the archive got it (UTC)
    archive_path           VARCHAR,             -- segment file, relative to the data dir
    archive_offset         BIGINT               -- byte offset of the gzip member holding the raw line
);

-- Verdicts: one row per measurement and rule version. Older rule versions are kept;
-- `current` marks the verdict made by the rules in force at the last (re)analysis.
CREATE TABLE IF NOT EXISTS verdicts (
    measurement_uid        VARCHAR NOT NULL,    -- = measurements.uid
    rule_version           VARCHAR NOT NULL,
    judged_at              TIMESTAMP NOT NULL,
    current                BOOLEAN NOT NULL,
    report_id              VARCHAR,
    input                  VARCHAR,
    target                 VARCHAR,
    test_name              VARCHAR,
    probe_cc               VARCHAR,
    probe_asn              VARCHAR,
    probe_network_name     VARCHAR,
    region                 VARCHAR,
    measurement_start_time TIMESTAMP,
    status                 VARCHAR NOT NULL,    -- ok | blocked | throttled | down | inconclusive
    method                 VARCHAR,             -- "dns.nxdomain", "tls.timeout", ...
    confidence             DOUBLE,
    evidence               VARCHAR[],
    ooni_blocking          VARCHAR,             -- JSON text: "dns", false, null ...
    ooni_accessible        BOOLEAN,
    details                VARCHAR,             -- JSON text
    PRIMARY KEY (measurement_uid, rule_version)
);

CREATE OR REPLACE VIEW current_verdicts AS SELECT * FROM verdicts WHERE current;

-- Events derived from current verdicts (recomputed after ingest or with `ashyq events --rebuild`).
CREATE TABLE IF NOT EXISTS events (
    event_id          VARCHAR PRIMARY KEY,      -- stable hash of kind, target, scope, networks, start
    kind              VARCHAR NOT NULL,         -- blocking | throttling | outage
    target            VARCHAR,                  -- NULL for outages
    scope             VARCHAR NOT NULL,         -- national | regional | network
    country           VARCHAR,
    asns              VARCHAR[],
    regions           VARCHAR[],
    networks          VARCHAR,                  -- JSON text: [{"asn", "region", "first_blocked", ...}]
    "start"           TIMESTAMP NOT NULL,       -- first measurement seen blocked / failing
    "end"             TIMESTAMP,                -- last measurement seen blocked; NULL while ongoing
    last_good_before  TIMESTAMP,                -- lower bound of the true start (NULL: none seen)
    first_good_after  TIMESTAMP,                -- upper bound of the true end (NULL: ongoing)
    methods           VARCHAR[],
    measurements      INTEGER NOT NULL,         -- number of failing measurements in the event
    measurement_uids  VARCHAR[],                -- up to 200 of them, in time order
    confidence        DOUBLE NOT NULL,
    recurrence        VARCHAR,                  -- e.g. "every day 19:00–23:00 Asia/Almaty"
    computed_at       TIMESTAMP NOT NULL
);

-- How far each archive segment has been loaded into the tables (bytes of complete gzip members).
CREATE TABLE IF NOT EXISTS archive_segments (
    path         VARCHAR PRIMARY KEY,           -- relative to the data dir
    loaded_bytes BIGINT NOT NULL,
    loaded_at    TIMESTAMP NOT NULL
);

-- Small key/value state: schema_version, events_dirty, ...
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
