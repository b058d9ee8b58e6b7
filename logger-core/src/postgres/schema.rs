//! The central database's schema, created and migrated by the sink.
//!
//! Every table is shared by all appliances and keyed by `appliance_id` first:
//!
//! | table | key | what |
//! |---|---|---|
//! | `mbus_schema` | — | the schema version (one row) |
//! | `mbus_appliance` | `appliance_id` | name, location, time zone of each appliance |
//! | `mbus_meter` | `appliance_id, meter_id` | name, secondary address, manufacturer, medium, category |
//! | `mbus_register` | `appliance_id, meter_id, position` | name, description, unit, storage number, tariff of each logged value |
//! | `mbus_reading` | `appliance_id, meter_id, time` | status and `vals numeric[]`: `vals[position + 1]` is the register's stored value, exact |
//! | `mbus_event` | `appliance_id, event_id` | the event log: code, number, severity, source, meter, came, went, message |
//!
//! Migrations run in one transaction under an advisory lock, so appliances connecting at the
//! same time do not race. With TimescaleDB installed (and `timescale` on), `mbus_reading`
//! becomes a hypertable on `time`, compressed per appliance and meter after seven days.

/// Migrations in order: version `i + 1` is reached by running `MIGRATIONS[i]`.
pub const MIGRATIONS: &[&str] = &["
CREATE TABLE mbus_appliance (
    appliance_id text PRIMARY KEY,
    name         text NOT NULL,
    location     text NOT NULL,
    timezone     text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mbus_meter (
    appliance_id text    NOT NULL,
    meter_id     integer NOT NULL,
    name         text    NOT NULL,
    secondary    text    NOT NULL,
    manufacturer text    NOT NULL,
    medium       text    NOT NULL,
    category     text    NOT NULL,
    location     text    NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (appliance_id, meter_id)
);
CREATE TABLE mbus_register (
    appliance_id   text     NOT NULL,
    meter_id       integer  NOT NULL,
    position       integer  NOT NULL,
    name           text     NOT NULL,
    description    text     NOT NULL,
    unit           text     NOT NULL,
    phase          smallint NOT NULL,
    storage_number bigint   NOT NULL,
    tariff         bigint   NOT NULL,
    PRIMARY KEY (appliance_id, meter_id, position)
);
CREATE TABLE mbus_reading (
    appliance_id text        NOT NULL,
    meter_id     integer     NOT NULL,
    time         timestamptz NOT NULL,
    status       bigint      NOT NULL,
    vals         numeric[]   NOT NULL,
    PRIMARY KEY (appliance_id, meter_id, time)
);
CREATE TABLE mbus_event (
    appliance_id text        NOT NULL,
    event_id     bigint      NOT NULL,
    code         text        NOT NULL,
    number       integer     NOT NULL,
    kind         text        NOT NULL,
    source       text        NOT NULL,
    meter_id     integer,
    came         timestamptz NOT NULL,
    went         timestamptz,
    message      text        NOT NULL,
    PRIMARY KEY (appliance_id, event_id)
);
"];

/// Key of the advisory lock the migrations hold (any fixed number; "MBus" in ASCII).
pub const MIGRATION_LOCK: i64 = 0x4D42_7573;

/// Creates the version table if needed.
pub const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS mbus_schema (version integer NOT NULL)";

/// Turns the readings table into a compressed hypertable (TimescaleDB 2).
pub const HYPERTABLE: &[&str] = &[
    "SELECT create_hypertable('mbus_reading', 'time', if_not_exists => TRUE, migrate_data => TRUE)",
    "ALTER TABLE mbus_reading SET (timescaledb.compress, \
     timescaledb.compress_segmentby = 'appliance_id, meter_id', \
     timescaledb.compress_orderby = 'time')",
    "SELECT add_compression_policy('mbus_reading', INTERVAL '7 days', if_not_exists => TRUE)",
];

/// Inserts a batch of readings given as parallel arrays; existing ones are left alone.
pub const INSERT_READINGS: &str = "
INSERT INTO mbus_reading (appliance_id, meter_id, time, status, vals)
SELECT $1, m, to_timestamp(t), s, v::numeric[]
FROM unnest($2::integer[], $3::bigint[], $4::bigint[], $5::text[]) AS r(m, t, s, v)
ON CONFLICT DO NOTHING";

/// Inserts or updates the events of a batch (the `went` time may have come since).
pub const UPSERT_EVENTS: &str = "
INSERT INTO mbus_event (appliance_id, event_id, code, number, kind, source, meter_id, came, went, message)
SELECT $1, i, c, n, k, s, m, to_timestamp(ca), to_timestamp(w), t
FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::integer[],
            $8::bigint[], $9::bigint[], $10::text[]) AS e(i, c, n, k, s, m, ca, w, t)
ON CONFLICT (appliance_id, event_id) DO UPDATE SET went = EXCLUDED.went";

/// Inserts or updates this appliance.
pub const UPSERT_APPLIANCE: &str = "
INSERT INTO mbus_appliance (appliance_id, name, location, timezone) VALUES ($1, $2, $3, $4)
ON CONFLICT (appliance_id) DO UPDATE SET name = EXCLUDED.name, location = EXCLUDED.location,
    timezone = EXCLUDED.timezone, updated_at = now()";

/// Inserts or updates one meter.
pub const UPSERT_METER: &str = "
INSERT INTO mbus_meter (appliance_id, meter_id, name, secondary, manufacturer, medium, category, location)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (appliance_id, meter_id) DO UPDATE SET name = EXCLUDED.name,
    secondary = EXCLUDED.secondary, manufacturer = EXCLUDED.manufacturer,
    medium = EXCLUDED.medium, category = EXCLUDED.category, location = EXCLUDED.location,
    updated_at = now()";

/// Removes the registers of one meter (before inserting the current ones).
pub const DELETE_REGISTERS: &str =
    "DELETE FROM mbus_register WHERE appliance_id = $1 AND meter_id = $2";

/// Inserts one register.
pub const INSERT_REGISTER: &str = "
INSERT INTO mbus_register (appliance_id, meter_id, position, name, description, unit, phase,
    storage_number, tariff) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
