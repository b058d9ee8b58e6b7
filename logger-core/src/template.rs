//! Register templates: one per meter type, matched on manufacturer + medium +
//! version + number of values, applied to newly found meters, created from a configured
//! meter, imported and exported as JSON.
//!
//! ```
//! use logger_core::template::{MeterType, Template};
//! let t = Template::builtin().into_iter().find(|t| t.device_name == "EMU Professional 3/75").unwrap();
//! let kind = MeterType { manufacturer: "EMU".into(), medium: 0x02, version: 0x10, values: t.values };
//! assert!(t.matches(&kind));
//! ```

use crate::config::{ConfigError, FieldError, Problems};
pub use crate::config::{MeterType, Template};
use serde::{Deserialize, Serialize};

/// Schema version of a template export file.
pub const TEMPLATE_FILE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    version: u32,
    templates: Vec<Template>,
}

const BUILTIN_JSON: &str = include_str!("builtin_templates.json");

impl Template {
    /// The templates shipped with the logger (Kamstrup Multical 601, EMU Professional 3/75,
    /// Elster F96 Plus, …).
    pub fn builtin() -> Vec<Template> {
        // The file is part of the build and checked by a test, so it always parses.
        import(BUILTIN_JSON).unwrap_or_default()
    }
}

/// The template for a meter type: a user template first, then a built-in one.
pub fn find<'a>(
    user: &'a [Template],
    builtin: &'a [Template],
    kind: &MeterType,
) -> Option<&'a Template> {
    user.iter().chain(builtin.iter()).find(|t| t.matches(kind))
}

/// Templates as an export file (`{"version":1,"templates":[…]}`).
pub fn export(templates: &[Template]) -> String {
    let file = TemplateFile {
        version: TEMPLATE_FILE_VERSION,
        templates: templates.to_vec(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// Reads a template export file, validating every template; errors name the field
/// (`templates[1].registers[0].divisor: must be non-zero`).
pub fn import(text: &str) -> Result<Vec<Template>, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file: TemplateFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ConfigError::Parse {
            path: if path.is_empty() { ".".into() } else { path },
            message: inner
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
            line: inner.line(),
            column: inner.column(),
        }
    })?;
    if file.version != TEMPLATE_FILE_VERSION {
        return Err(ConfigError::Invalid(vec![FieldError {
            path: "version".into(),
            problem: format!(
                "unsupported template file version {} (expected 1)",
                file.version
            ),
        }]));
    }
    let mut p = Problems::default();
    for (i, t) in file.templates.iter().enumerate() {
        t.validate(&format!("templates[{i}]"), &mut p);
        if let Some(j) = file.templates[..i].iter().position(|o| o.key() == t.key()) {
            p.add(
                format!("templates[{i}]"),
                format!("same meter type as templates[{j}]"),
            );
        }
    }
    if p.errors.is_empty() {
        Ok(file.templates)
    } else {
        Err(ConfigError::Invalid(p.errors))
    }
}

/// Merges imported templates into `existing`: a template for a type already present replaces
/// it (one template per type), others are appended.
pub fn merge(existing: &mut Vec<Template>, imported: Vec<Template>) {
    for t in imported {
        match existing.iter_mut().find(|e| e.key() == t.key()) {
            Some(slot) => *slot = t,
            None => existing.push(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readout::MeterData;
    use crate::test_corpus::frame as corpus;

    #[test]
    fn builtin_templates_parse_and_match_their_meters() {
        let builtin = Template::builtin();
        assert_eq!(import(BUILTIN_JSON).unwrap().len(), builtin.len());
        assert!(builtin.len() >= 6);
        for (file, device) in [
            ("kamstrup_multical_601", "Kamstrup Multical 601"),
            ("EMU_EMU-Professional-375-M-Bus", "EMU Professional 3/75"),
            ("ELS_Elster-F96-Plus", "Elster F96 Plus"),
        ] {
            let data = MeterData::decode(&[corpus(file)]).unwrap();
            let kind = data.meter_type().unwrap();
            let t = find(&[], &builtin, &kind).unwrap_or_else(|| panic!("no template for {file}"));
            assert_eq!(t.device_name, device);
            assert_eq!(t.registers.len() as u32, t.values);
        }
        // Every simulated heat-meter variant has one.
        for v in 0..6 {
            let tpl = mbus_link::sim::templates::synthetic(v);
            let m = mbus_link::sim::VirtualMeter::new(1, tpl.header().unwrap(), tpl);
            let kind = MeterData::decode(&m.telegrams())
                .unwrap()
                .meter_type()
                .unwrap();
            assert!(find(&[], &builtin, &kind).is_some(), "variant {v}");
        }
    }

    #[test]
    fn matching_needs_all_four_fields() {
        let t = Template::builtin()
            .into_iter()
            .find(|t| t.manufacturer == "KAM")
            .unwrap();
        let kind = t.key();
        assert!(t.matches(&kind));
        assert!(t.matches(&MeterType {
            manufacturer: "kam".into(),
            ..kind.clone()
        }));
        for other in [
            MeterType {
                manufacturer: "EMU".into(),
                ..kind.clone()
            },
            MeterType {
                medium: 7,
                ..kind.clone()
            },
            MeterType {
                version: kind.version + 1,
                ..kind.clone()
            },
            MeterType {
                values: kind.values + 1,
                ..kind.clone()
            },
        ] {
            assert!(!t.matches(&other), "{other:?}");
        }
    }

    #[test]
    fn user_templates_win_over_builtin_ones() {
        let builtin = Template::builtin();
        let mut mine = builtin[0].clone();
        mine.device_name = "mine".into();
        assert_eq!(
            find(&[mine.clone()], &builtin, &mine.key())
                .unwrap()
                .device_name,
            "mine"
        );
    }

    #[test]
    fn export_import_round_trip_and_merge() {
        let builtin = Template::builtin();
        let text = export(&builtin[..2]);
        let back = import(&text).unwrap();
        assert_eq!(back, builtin[..2].to_vec());
        let mut existing = vec![builtin[0].clone()];
        let mut changed = builtin[0].clone();
        changed.device_name = "changed".into();
        merge(&mut existing, vec![changed, builtin[1].clone()]);
        assert_eq!(existing.len(), 2);
        assert_eq!(existing[0].device_name, "changed");
    }

    #[test]
    fn bad_template_files_name_the_problem() {
        let mut t = Template::builtin().remove(0);
        t.registers[1].divisor = 0.0;
        let err = import(&export(&[t.clone()])).unwrap_err().to_string();
        assert_eq!(err, "templates[0].registers[1].divisor: must be non-zero");
        t.registers[1].divisor = 1.0;
        t.registers[1].index = 500;
        let err = import(&export(&[t.clone()])).unwrap_err().to_string();
        assert!(
            err.contains("templates[0].registers[1].index: must be below"),
            "{err}"
        );
        let err = import(&export(&[
            Template::builtin().remove(0),
            Template::builtin().remove(0),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("templates[1]: same meter type as templates[0]"),
            "{err}"
        );
        let err = import(r#"{"version":1,"templates":[{"manufacturer":"KAM","medium":"x"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("templates[0].medium: invalid type"),
            "{err}"
        );
        assert!(import(r#"{"version":2,"templates":[]}"#)
            .unwrap_err()
            .to_string()
            .contains("version"));
        assert!(import("not json").is_err());
    }
}
