//! The `modbus` section: the Modbus TCP server that publishes each meter's last reading as a
//! block of input registers (layout in [`crate::modbus`]).

use super::Problems;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Registers in the Modbus address space (addresses 0…65535).
pub const MODBUS_ADDRESS_SPACE: u32 = 65_536;
/// Smallest block: the meter header and one value.
pub const MODBUS_MIN_BLOCK: u16 = 16;
/// Largest block.
pub const MODBUS_MAX_BLOCK: u16 = 4096;
/// Most decimals of the scaled int32 form (and, negative, the most powers of ten divided out).
pub const MODBUS_MAX_DECIMALS: i8 = 9;

/// Which 16-bit register of a 32-bit value comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WordOrder {
    /// The high word at the lower address ("big endian", ABCD): what most clients expect.
    #[default]
    HighFirst,
    /// The low word at the lower address ("word swapped", CDAB).
    LowFirst,
}

impl WordOrder {
    /// The name used in the configuration and the register map.
    pub fn name(self) -> &'static str {
        match self {
            WordOrder::HighFirst => "high_first",
            WordOrder::LowFirst => "low_first",
        }
    }
}

/// Modbus TCP server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Modbus {
    /// Server on or off.
    pub enabled: bool,
    /// Local IPv4 address to listen on (`None`: every interface).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Option<Ipv4Addr>,
    /// TCP port (default 502).
    pub port: u16,
    /// Registers per meter: a meter's block starts at its index × this.
    pub block_size: u16,
    /// Answer only requests for this unit identifier (`None`: answer every unit id).
    pub unit_id: Option<u8>,
    /// Word order of the 32-bit values (float32, int32, time).
    pub word_order: WordOrder,
    /// Decimals of the scaled int32 form: int32 = value × 10^decimals, rounded.
    pub int32_decimals: i8,
    /// Other decimals for single registers (large counters that would not fit 32 bits, or
    /// values that need more digits).
    pub int32_overrides: Vec<Int32Decimals>,
}

/// The int32 decimals of one register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Int32Decimals {
    /// The meter's id.
    pub meter: u32,
    /// The register's index.
    pub register: u32,
    /// int32 = value × 10^decimals (negative: powers of ten divided out).
    pub decimals: i8,
}

impl Default for Modbus {
    fn default() -> Self {
        Modbus {
            enabled: false,
            address: None,
            port: 502,
            block_size: 128,
            unit_id: None,
            word_order: WordOrder::HighFirst,
            int32_decimals: 3,
            int32_overrides: Vec::new(),
        }
    }
}

impl Modbus {
    /// The int32 decimals of register `register` of meter `meter`.
    pub fn decimals(&self, meter: u32, register: u32) -> i8 {
        self.int32_overrides
            .iter()
            .find(|o| o.meter == meter && o.register == register)
            .map_or(self.int32_decimals, |o| o.decimals)
    }

    pub(crate) fn validate(&self, p: &mut Problems, meters: &[super::Meter]) {
        p.check(self.port != 0, "modbus.port", "must not be 0");
        if (MODBUS_MIN_BLOCK..=MODBUS_MAX_BLOCK).contains(&self.block_size) {
            let most = MODBUS_ADDRESS_SPACE / u32::from(self.block_size);
            if self.enabled && meters.len() as u64 > u64::from(most) {
                p.add(
                    "modbus.block_size",
                    format!(
                        "leaves room for {most} meters in the 65536 registers, {} are configured",
                        meters.len()
                    ),
                );
            }
        } else {
            p.add(
                "modbus.block_size",
                format!("must be between {MODBUS_MIN_BLOCK} and {MODBUS_MAX_BLOCK}"),
            );
        }
        if let Some(unit) = self.unit_id {
            p.check(
                (1..=247).contains(&unit) || unit == 255,
                "modbus.unit_id",
                "must be between 1 and 247, or 255",
            );
        }
        let decimals = -MODBUS_MAX_DECIMALS..=MODBUS_MAX_DECIMALS;
        p.check(
            decimals.contains(&self.int32_decimals),
            "modbus.int32_decimals",
            "must be between -9 and 9",
        );
        for (i, o) in self.int32_overrides.iter().enumerate() {
            let path = format!("modbus.int32_overrides[{i}]");
            p.check(
                decimals.contains(&o.decimals),
                format!("{path}.decimals"),
                "must be between -9 and 9",
            );
            match meters.iter().find(|m| m.id == o.meter) {
                None => p.add(format!("{path}.meter"), format!("no meter {}", o.meter)),
                Some(m) => p.check(
                    m.registers.iter().any(|r| r.index == o.register),
                    format!("{path}.register"),
                    "the meter has no register with this index",
                ),
            }
            if self.int32_overrides[..i]
                .iter()
                .any(|e| (e.meter, e.register) == (o.meter, o.register))
            {
                p.add(path, "names the same register as an earlier entry");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(section: serde_json::Value) -> Vec<(String, String)> {
        Config::default()
            .with_section("modbus", section)
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| (p.path.clone(), p.problem.clone()))
            .collect()
    }

    #[test]
    fn defaults_are_off_and_valid() {
        let config = Config::from_json(r#"{"version": 2}"#).unwrap();
        assert!(!config.modbus.enabled);
        assert_eq!(config.modbus.port, 502);
        assert_eq!(config.modbus.block_size, 128);
        assert_eq!(config.modbus.word_order, super::WordOrder::HighFirst);
        let config = Config::default()
            .with_section(
                "modbus",
                serde_json::json!({"enabled": true, "port": 1502, "word_order": "low_first",
                                   "unit_id": 1, "int32_decimals": 0}),
            )
            .unwrap();
        assert_eq!(config.modbus.word_order, super::WordOrder::LowFirst);
        assert_eq!(config.modbus.block_size, 128);
    }

    #[test]
    fn every_bad_field_is_named() {
        let found = problems(serde_json::json!({
            "port": 0, "block_size": 8, "unit_id": 0, "int32_decimals": 10,
            "int32_overrides": [{"meter": 3, "register": 0, "decimals": -10}]
        }));
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "modbus.port",
                "modbus.block_size",
                "modbus.unit_id",
                "modbus.int32_decimals",
                "modbus.int32_overrides[0].decimals",
                "modbus.int32_overrides[0].meter"
            ]
        );
        assert_eq!(found[1].1, "must be between 16 and 4096");
        let found = problems(serde_json::json!({"word_order": "middle"}));
        assert_eq!(found[0].0, "modbus.word_order");
    }

    #[test]
    fn overrides_name_configured_registers_once() {
        let config = Config::from_json(
            r#"{"version": 2, "meters": [{"id": 4, "name": "m", "addressing": "primary",
                "primary": 1, "registers": [{"index": 2, "name": "Energy"}]}]}"#,
        )
        .unwrap();
        let good = serde_json::json!({"int32_decimals": 2,
            "int32_overrides": [{"meter": 4, "register": 2, "decimals": -3}]});
        let changed = config.with_section("modbus", good).unwrap();
        assert_eq!(changed.modbus.decimals(4, 2), -3);
        assert_eq!(changed.modbus.decimals(4, 1), 2);
        let bad = serde_json::json!({"int32_overrides": [
            {"meter": 4, "register": 1, "decimals": 0},
            {"meter": 4, "register": 2, "decimals": 0},
            {"meter": 4, "register": 2, "decimals": 1}]});
        let e = config.with_section("modbus", bad).unwrap_err();
        let paths: Vec<String> = e.problems().iter().map(|p| p.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "modbus.int32_overrides[0].register",
                "modbus.int32_overrides[2]"
            ]
        );
    }

    #[test]
    fn the_blocks_must_fit_the_address_space() {
        let mut config = Config::default();
        let meter = r#"{"id": 1, "name": "m", "addressing": "primary", "primary": 1}"#;
        let meter: crate::config::Meter = serde_json::from_str(meter).unwrap();
        for id in 1..=17 {
            let mut m = meter.clone();
            m.id = id;
            m.primary = id as u8;
            config.meters.push(m);
        }
        let e = config
            .with_section(
                "modbus",
                serde_json::json!({"enabled": true, "block_size": 4096}),
            )
            .unwrap_err();
        assert_eq!(e.problems()[0].path, "modbus.block_size");
        assert!(
            e.problems()[0].problem.contains("room for 16 meters"),
            "{e}"
        );
    }
}
