//! Export: file names, layouts, separators, filters (with DST days), omitted meters.

use chrono::{TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use logger_core::export::{
    export_meter, export_zip, export_zip_stream, Bound, CsvLayout, ExportError, ExportOptions,
    Filter, Format, MeterDescriptor, RegisterDescriptor, Separator,
};
use logger_core::storage::{Decimal, MeterId, Reading, Store};
use std::io::{Cursor, Read};

fn register(index: usize, name: &str, unit: &str) -> RegisterDescriptor {
    RegisterDescriptor {
        index,
        name: name.into(),
        description: format!("{name} description"),
        unit: unit.into(),
        phase: 0,
        divisor: 1000.0,
        storage_number: 0,
        tariff: index as u32,
    }
}

fn meter(id: u32, name: &str, secondary: &str) -> MeterDescriptor {
    MeterDescriptor {
        id: MeterId(id),
        name: name.into(),
        secondary: secondary.into(),
        manufacturer: "EMU".into(),
        medium: "Electricity".into(),
        registers: vec![
            register(0, "Energy", "kWh"),
            register(2, "Power", "W"),
            register(1, "Count", ""),
        ],
    }
}

fn d(text: &str) -> Option<Decimal> {
    Some(text.parse().unwrap())
}

fn utc(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, day, h, mi, 0)
        .unwrap()
        .timestamp()
}

fn options(format: Format, filter: Filter) -> ExportOptions {
    ExportOptions {
        from: 0,
        to: i64::MAX,
        format,
        filter,
        time_zone: Berlin,
        exported_at: Utc.with_ymd_and_hms(2019, 2, 8, 11, 0, 45).unwrap(),
    }
}

const STANDARD_SEMICOLON: Format = Format::Csv {
    layout: CsvLayout::Standard,
    separator: Separator::Semicolon,
};

/// Runs an export and returns (file name, content) per file.
fn export(
    store: &Store,
    meters: &[MeterDescriptor],
    options: &ExportOptions,
) -> Vec<(String, String)> {
    let mut zip = Cursor::new(Vec::new());
    let summary = export_zip(store, meters, options, &mut zip).unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(zip.into_inner())).unwrap();
    assert_eq!(archive.len(), summary.files.len());
    let mut files = Vec::new();
    for (i, exported) in summary.files.iter().enumerate() {
        let mut entry = archive.by_index(i).unwrap();
        assert_eq!(entry.name().unwrap(), exported.name.as_str());
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        files.push((exported.name.clone(), text));
    }
    files
}

fn store_with(readings: &[Reading]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("readings.sqlite3")).unwrap();
    store.append_batch(readings).unwrap();
    (dir, store)
}

fn sample() -> Vec<Reading> {
    vec![
        Reading {
            meter: MeterId(1),
            time: utc(2019, 1, 1, 10, 0),
            status: 0,
            values: vec![d("1234.567"), d("7"), d("-12.5")],
        },
        Reading {
            meter: MeterId(1),
            time: utc(2019, 1, 1, 10, 15),
            status: 4,
            values: vec![d("1234.600"), None, d("0")],
        },
        Reading {
            meter: MeterId(2),
            time: utc(2019, 1, 1, 10, 0),
            status: 0,
            values: vec![d("1")],
        },
    ]
}

#[test]
fn file_names_follow_the_pattern_and_are_safe() {
    let (_dir, store) = store_with(&sample());
    let meters = [
        meter(1, "Wohnung 12/a: Süd*", "41284"),
        meter(2, "TOPAS ES V2", "51884601"),
    ];
    let files = export(&store, &meters, &options(STANDARD_SEMICOLON, Filter::All));
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    // 11:00:45 UTC is 12:00:45 in Berlin in winter.
    assert_eq!(
        names,
        [
            "DataExport_41284_Wohnung 12_a_ Süd__08_02_2019_12_00_45.csv",
            "DataExport_51884601_TOPAS ES V2_08_02_2019_12_00_45.csv"
        ]
    );
    let json = export(&store, &meters[1..], &options(Format::Json, Filter::All));
    assert_eq!(
        json[0].0,
        "DataExport_51884601_TOPAS ES V2_08_02_2019_12_00_45.json"
    );
}

#[test]
fn meters_sharing_name_and_address_get_distinct_files() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "Same", "1"), meter(2, "Same", "1")];
    let files = export(&store, &meters, &options(Format::Json, Filter::All));
    assert_eq!(files[0].0, "DataExport_1_Same_08_02_2019_12_00_45.json");
    assert_eq!(files[1].0, "DataExport_1_Same_08_02_2019_12_00_45_2.json");
}

#[test]
fn meters_without_data_in_range_are_omitted() {
    let (_dir, store) = store_with(&sample());
    let meters = [
        meter(1, "One", "1"),
        meter(2, "Two", "2"),
        meter(3, "Never read", "3"),
    ];
    let mut opts = options(STANDARD_SEMICOLON, Filter::All);
    let files = export(&store, &meters, &opts);
    assert_eq!(files.len(), 2);
    // Only meter 1 has a reading at 10:15 UTC.
    opts.from = utc(2019, 1, 1, 10, 1);
    let files = export(&store, &meters, &opts);
    assert_eq!(files.len(), 1);
    assert!(files[0].0.starts_with("DataExport_1_One_"));
    opts.from = utc(2020, 1, 1, 0, 0);
    assert!(export(&store, &meters, &opts).is_empty());
}

#[test]
fn standard_csv_with_every_separator() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "One", "1")];
    let cases = [
        (
            Separator::Semicolon,
            ';',
            "Timestamp;Energy [kWh];Power [W];Count",
        ),
        (
            Separator::Comma,
            ',',
            "Timestamp,Energy [kWh],Power [W],Count",
        ),
        (
            Separator::Tab,
            '\t',
            "Timestamp\tEnergy [kWh]\tPower [W]\tCount",
        ),
        (
            Separator::Space,
            ' ',
            "Timestamp \"Energy [kWh]\" \"Power [W]\" Count",
        ),
    ];
    for (separator, c, header) in cases {
        let format = Format::Csv {
            layout: CsvLayout::Standard,
            separator,
        };
        let files = export(&store, &meters, &options(format, Filter::All));
        let expected = format!(
            "{header}\r\n\
             2019-01-01T11:00:00+01:00{c}1234.567{c}-12.5{c}7\r\n\
             2019-01-01T11:15:00+01:00{c}1234.600{c}0{c}\r\n"
        );
        assert_eq!(files[0].1, expected, "{separator:?}");
    }
}

#[test]
fn full_db_csv_has_one_row_per_value_with_all_columns() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "Flat 1, left", "41284")];
    let format = Format::Csv {
        layout: CsvLayout::FullDb,
        separator: Separator::Comma,
    };
    let files = export(&store, &meters, &options(format, Filter::All));
    let lines: Vec<&str> = files[0].1.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "meter_id,secondary,meter_name,manufacturer,medium,time_utc,time_local,status,register,\
         register_name,description,unit,phase,divisor,storage_number,tariff,value"
    );
    assert_eq!(
        lines[1],
        "1,41284,\"Flat 1, left\",EMU,Electricity,2019-01-01T10:00:00Z,2019-01-01T11:00:00+01:00,0,\
         0,Energy,Energy description,kWh,0,1000,0,0,1234.567"
    );
    assert_eq!(
        lines[6],
        "1,41284,\"Flat 1, left\",EMU,Electricity,2019-01-01T10:15:00Z,2019-01-01T11:15:00+01:00,4,\
         1,Count,Count description,,0,1000,0,1,"
    );
    // Header, 2 readings x 3 registers, and the empty string after the last CRLF.
    assert_eq!(lines.len(), 8);
}

#[test]
fn json_document_holds_meter_registers_and_exact_values() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "Wohnung \"12a\"", "41284")];
    let files = export(&store, &meters, &options(Format::Json, Filter::All));
    let text = &files[0].1;
    assert!(text.contains("\"values\": [1234.600, 0, null]"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["meter"]["name"], "Wohnung \"12a\"");
    assert_eq!(doc["meter"]["secondary"], "41284");
    assert_eq!(doc["time_zone"], "Europe/Berlin");
    assert_eq!(doc["filter"], "all");
    assert_eq!(doc["registers"][1]["name"], "Power");
    assert_eq!(doc["registers"][1]["index"], 2);
    assert_eq!(doc["registers"][2]["unit"], "");
    let readings = doc["readings"].as_array().unwrap();
    assert_eq!(readings.len(), 2);
    assert_eq!(readings[0]["time"], "2019-01-01T11:00:00+01:00");
    assert_eq!(
        readings[0]["values"],
        serde_json::json!([1234.567, -12.5, 7])
    );
    assert_eq!(readings[1]["status"], 4);
}

/// Readings every 15 minutes from `from` to `to` (UTC), value = index.
fn quarter_hours(meter: u32, from: i64, to: i64) -> Vec<Reading> {
    (0..)
        .map(|k| from + k * 900)
        .take_while(|&t| t < to)
        .enumerate()
        .map(|(k, time)| Reading {
            meter: MeterId(meter),
            time,
            status: 0,
            values: vec![Some(Decimal::new(k as i128, 0))],
        })
        .collect()
}

fn exported_times(store: &Store, filter: Filter, from: &str, to: &str) -> Vec<String> {
    let mut opts = options(
        Format::Csv {
            layout: CsvLayout::Standard,
            separator: Separator::Comma,
        },
        filter,
    );
    opts.from = from.parse::<Bound>().unwrap().start(Berlin).unwrap();
    opts.to = to.parse::<Bound>().unwrap().end(Berlin).unwrap();
    let files = export(store, &[meter(1, "M", "1")], &opts);
    files[0]
        .1
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn hour_filter_counts_the_repeated_autumn_hour_twice() {
    let (_dir, store) = store_with(&quarter_hours(
        1,
        utc(2024, 10, 25, 0, 0),
        utc(2024, 10, 29, 0, 0),
    ));
    let hours = exported_times(&store, Filter::Hour, "2024-10-27", "2024-10-27");
    assert_eq!(hours.len(), 25);
    assert_eq!(hours[0], "2024-10-27T00:45:00+02:00");
    assert_eq!(hours[2], "2024-10-27T02:45:00+02:00");
    assert_eq!(hours[3], "2024-10-27T02:45:00+01:00");
    assert_eq!(hours[24], "2024-10-27T23:45:00+01:00");
}

#[test]
fn hour_filter_skips_the_missing_spring_hour() {
    let (_dir, store) = store_with(&quarter_hours(
        1,
        utc(2024, 3, 29, 0, 0),
        utc(2024, 4, 2, 0, 0),
    ));
    let hours = exported_times(&store, Filter::Hour, "2024-03-31", "2024-03-31");
    assert_eq!(hours.len(), 23);
    assert_eq!(hours[1], "2024-03-31T01:45:00+01:00");
    assert_eq!(hours[2], "2024-03-31T03:45:00+02:00");
}

#[test]
fn day_filter_takes_the_last_reading_of_each_local_day() {
    let (_dir, store) = store_with(&quarter_hours(
        1,
        utc(2024, 10, 25, 0, 0),
        utc(2024, 10, 29, 0, 0),
    ));
    let days = exported_times(&store, Filter::Day, "2024-10-26", "2024-10-28");
    assert_eq!(
        days,
        [
            "2024-10-26T23:45:00+02:00",
            "2024-10-27T23:45:00+01:00",
            // The data end at 00:00 UTC on 29 Oct, which is 01:00 local: the last reading of
            // 28 Oct is its 23:45.
            "2024-10-28T23:45:00+01:00",
        ]
    );
    // Spring: a 23-hour day.
    let (_dir, store) = store_with(&quarter_hours(
        1,
        utc(2024, 3, 30, 0, 0),
        utc(2024, 4, 1, 12, 0),
    ));
    let days = exported_times(&store, Filter::Day, "2024-03-30", "2024-03-31");
    assert_eq!(
        days,
        ["2024-03-30T23:45:00+01:00", "2024-03-31T23:45:00+02:00"]
    );
}

#[test]
fn month_filter_uses_local_month_boundaries() {
    let (_dir, store) = store_with(&quarter_hours(
        1,
        utc(2024, 1, 30, 0, 0),
        utc(2024, 3, 2, 0, 0),
    ));
    let months = exported_times(&store, Filter::Month, "2024-01-01", "2024-12-31");
    // 31 Jan 23:00 UTC already belongs to February in Berlin.
    assert_eq!(
        months,
        [
            "2024-01-31T23:45:00+01:00",
            "2024-02-29T23:45:00+01:00",
            "2024-03-02T00:45:00+01:00"
        ]
    );
}

#[test]
fn streamed_archive_for_unseekable_outputs_is_readable() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "One", "1"), meter(2, "Two", "2")];
    let opts = options(STANDARD_SEMICOLON, Filter::All);
    let seekable = export(&store, &meters, &opts);
    // A Vec<u8> cannot seek; the archive must still read back the same.
    let mut bytes = Vec::new();
    let summary = export_zip_stream(&store, &meters, &opts, &mut bytes).unwrap();
    assert_eq!(summary.files.len(), 2);
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    for (i, (name, text)) in seekable.iter().enumerate() {
        let mut entry = archive.by_index(i).unwrap();
        assert_eq!(entry.name().unwrap(), name.as_str());
        let mut streamed = String::new();
        entry.read_to_string(&mut streamed).unwrap();
        assert_eq!(&streamed, text);
    }
}

#[test]
fn single_meter_files_match_the_archive() {
    let (_dir, store) = store_with(&sample());
    let meters = [meter(1, "One", "1"), meter(3, "Never read", "3")];
    let opts = options(Format::Json, Filter::Hour);
    let archived = export(&store, &meters, &opts);
    let mut single = Vec::new();
    let file = export_meter(&store, &meters[0], &opts, &mut single)
        .unwrap()
        .unwrap();
    assert_eq!(file.name, archived[0].0);
    assert_eq!((file.readings, file.values), (1, 2));
    assert_eq!(String::from_utf8(single).unwrap(), archived[0].1);
    let mut nothing = Vec::new();
    assert!(export_meter(&store, &meters[1], &opts, &mut nothing)
        .unwrap()
        .is_none());
    assert!(nothing.is_empty());
}

#[test]
fn options_read_from_json() {
    let format: Format =
        serde_json::from_str(r#"{"csv": {"layout": "full_db", "separator": "tab"}}"#).unwrap();
    assert_eq!(
        format,
        Format::Csv {
            layout: CsvLayout::FullDb,
            separator: Separator::Tab
        }
    );
    assert_eq!(
        serde_json::from_str::<Format>(r#""json""#).unwrap(),
        Format::Json
    );
    assert_eq!(
        serde_json::from_str::<Filter>(r#""month""#).unwrap(),
        Filter::Month
    );
    assert!(serde_json::from_str::<Separator>(r#""pipe""#).is_err());
}

#[test]
fn bad_requests_are_refused() {
    let (_dir, store) = store_with(&sample());
    let mut out = Cursor::new(Vec::new());
    let mut opts = options(Format::Json, Filter::All);
    opts.from = 100;
    opts.to = 100;
    let err = export_zip(&store, &[meter(1, "A", "1")], &opts, &mut out).unwrap_err();
    assert!(matches!(err, ExportError::EmptyRange { .. }), "{err}");
    let opts = options(Format::Json, Filter::All);
    let err = export_zip(
        &store,
        &[meter(1, "A", "1"), meter(1, "B", "2")],
        &opts,
        &mut out,
    )
    .unwrap_err();
    assert!(
        matches!(err, ExportError::DuplicateMeter(MeterId(1))),
        "{err}"
    );
}

mod data_dir {
    use super::*;
    use logger_core::config::{Config, ConfigStore};
    use logger_core::export::{export_data_dir, ExportRequest};
    use logger_core::storage::DATABASE_FILE_NAME;

    fn config() -> Config {
        let mut config = Config::default();
        config.general.timezone = "Europe/Zurich".into();
        config.meters = serde_json::from_str(
            r#"[
              {"id": 3, "name": "Wohnung 12a", "addressing": "secondary",
               "secondary": "00041284B5151002",
               "registers": [
                 {"index": 0, "name": "Energy", "description": "Wirkenergie Bezug",
                  "meter_unit": "Wh", "unit": "kWh", "divisor": 1000},
                 {"index": 1, "name": "Power", "unit": "W", "off": true}
               ]},
              {"id": 4, "name": "Pump", "addressing": "primary", "primary": 7}
            ]"#,
        )
        .unwrap();
        config
    }

    fn request(meters: Vec<u32>) -> ExportRequest {
        ExportRequest {
            from: "2019-01-01".parse().unwrap(),
            to: "2019-01-01".parse().unwrap(),
            format: Format::Json,
            filter: Filter::All,
            meters,
            exported_at: Utc.with_ymd_and_hms(2019, 2, 8, 11, 0, 45).unwrap(),
        }
    }

    #[test]
    fn configured_meters_map_to_descriptors() {
        let config = config();
        let (meters, options) = request(vec![4, 3]).resolve(&config).unwrap();
        assert_eq!(meters[0].secondary, "7");
        assert_eq!(meters[0].manufacturer, "");
        assert!(meters[0].registers.is_empty());
        let flat = &meters[1];
        assert_eq!((flat.id, flat.name.as_str()), (MeterId(3), "Wohnung 12a"));
        assert_eq!(
            (flat.secondary.as_str(), flat.manufacturer.as_str()),
            ("00041284B5151002", "EMU")
        );
        // The `off` register is not exported.
        assert_eq!(flat.registers.len(), 1);
        assert_eq!(flat.registers[0].unit, "kWh");
        assert_eq!(flat.registers[0].divisor, 1000.0);
        assert_eq!(options.time_zone, chrono_tz::Europe::Zurich);
        // One local day in winter: 23:00 UTC the day before to 23:00 UTC.
        assert_eq!(options.to - options.from, 86_400);
        assert_eq!(options.from, utc(2018, 12, 31, 23, 0));
        let all = request(vec![]).resolve(&config).unwrap().0;
        assert_eq!(
            all.iter().map(|m| m.id).collect::<Vec<_>>(),
            [MeterId(3), MeterId(4)]
        );
        let err = request(vec![3, 99]).resolve(&config).unwrap_err();
        assert!(matches!(err, ExportError::UnknownMeter(99)), "{err}");
    }

    #[test]
    fn exports_a_data_directory_into_a_zip_file() {
        let dir = tempfile::tempdir().unwrap();
        ConfigStore::new(dir.path()).save(&config()).unwrap();
        let mut store = Store::open(dir.path().join(DATABASE_FILE_NAME)).unwrap();
        store
            .append(&Reading {
                meter: MeterId(3),
                time: utc(2019, 1, 1, 12, 0),
                status: 0,
                values: vec![d("1.364"), d("5")],
            })
            .unwrap();
        let out = dir.path().join("export.zip");
        let summary = export_data_dir(dir.path(), &request(vec![]), &out).unwrap();
        assert_eq!(summary.files.len(), 1);
        assert_eq!(
            summary.files[0].name,
            "DataExport_00041284B5151002_Wohnung 12a_08_02_2019_12_00_45.json"
        );
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
        let mut text = String::new();
        archive
            .by_index(0)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(
            text.contains(
                "{\"time\": \"2019-01-01T13:00:00+01:00\", \"status\": 0, \"values\": [1.364]}"
            ),
            "{text}"
        );
        // A failed export leaves neither the file nor a temporary one.
        let bad = dir.path().join("bad.zip");
        let err = export_data_dir(dir.path(), &request(vec![42]), &bad).unwrap_err();
        assert!(matches!(err, ExportError::UnknownMeter(42)));
        let missing_db = tempfile::tempdir().unwrap();
        let err = export_data_dir(missing_db.path(), &request(vec![]), &bad).unwrap_err();
        assert!(matches!(err, ExportError::Storage(_)), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.to_string_lossy().contains("bad.zip")),
            "{names:?}"
        );
    }
}
