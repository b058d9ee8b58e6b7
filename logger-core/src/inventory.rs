//! Adding meters: from scan results or by hand, with automatic names, categories
//! and registers (from a matching template, else one per record).

use crate::config::{Addressing, Category, Config, Meter, ResetMode};
use crate::medium;
use crate::readout::MeterData;
use crate::template::{self, Template};
use mbus_proto::address::{BaudRate, SecondaryAddress};

/// A meter found on the bus (by a scan), with the reply it gave if it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredMeter {
    /// Primary address, if it was found by primary address.
    pub primary: Option<u8>,
    /// Secondary address, if known (from a secondary scan or the reply's header).
    pub secondary: Option<SecondaryAddress>,
    /// Baud rate it answered at.
    pub baud: BaudRate,
    /// Its reply telegrams (empty if it was not read).
    pub telegrams: Vec<Vec<u8>>,
}

/// The automatic name `<manufacturer> <medium> <primary> <secondary>`: manufacturer letters,
/// medium short form (at most four letters), primary address, identification number (without
/// leading zeros, as the reference appliance shows it).
///
/// ```
/// use logger_core::inventory::auto_name;
/// assert_eq!(auto_name("KAM", 0x04, 1, Some(6_855_817)), "KAM heat 1 6855817");
/// assert_eq!(auto_name("EMU", 0x02, 0, None), "EMU elec 0");
/// ```
pub fn auto_name(manufacturer: &str, medium_code: u8, primary: u8, ident: Option<u32>) -> String {
    let mut name = format!("{manufacturer} {} {primary}", medium::short(medium_code));
    if let Some(ident) = ident {
        name.push_str(&format!(" {ident}"));
    }
    name
}

/// Gives a meter its registers from a decoded reply: the template for its type (the user's
/// first, then the built-in ones) or one register per record. Returns the template used.
pub fn assign_registers<'a>(
    meter: &mut Meter,
    data: &MeterData,
    user: &'a [Template],
    builtin: &'a [Template],
) -> Option<&'a Template> {
    let found = data
        .meter_type()
        .and_then(|kind| template::find(user, builtin, &kind));
    match found {
        Some(t) => t.apply(meter),
        None => meter.registers = data.default_registers(),
    }
    found
}

/// A new meter for `found`, with id `id`: automatic name, secondary addressing when the
/// secondary address is known, category from the medium, registers from the reply.
pub fn meter_from_found(
    id: u32,
    found: &DiscoveredMeter,
    user: &[Template],
    builtin: &[Template],
) -> Meter {
    let data = MeterData::decode(&found.telegrams).ok();
    let secondary = found
        .secondary
        .or_else(|| data.as_ref().and_then(|d| d.secondary));
    let primary = found.primary.unwrap_or(0);
    let manufacturer = secondary
        .map(|s| String::from_utf8_lossy(&s.manufacturer_letters()).into_owned())
        .unwrap_or_else(|| "???".into());
    let medium_code = secondary.map_or(0x0F, |s| s.medium);
    let mut meter = Meter {
        id,
        name: auto_name(
            &manufacturer,
            medium_code,
            primary,
            secondary.map(|s| s.ident),
        ),
        location: String::new(),
        cost_centre: String::new(),
        comment: String::new(),
        addressing: if secondary.is_some() {
            Addressing::Secondary
        } else {
            Addressing::Primary
        },
        primary,
        secondary,
        baud: found.baud.bps(),
        cycle: None,
        category: Category::for_medium(medium_code),
        bacnet_instance: None,
        battery: false,
        reset: ResetMode::Off,
        registers: Vec::new(),
        input: None,
        logging: true,
    };
    if let Some(d) = &data {
        assign_registers(&mut meter, d, user, builtin);
    }
    meter
}

/// Where `found` is in `config.meters`: the meter with the same secondary address (from the
/// scan or the reply's header), or for a meter without one the meter addressed by the same
/// primary address.
pub fn configured(config: &Config, found: &DiscoveredMeter) -> Option<usize> {
    let secondary = found.secondary.or_else(|| {
        MeterData::decode(&found.telegrams)
            .ok()
            .and_then(|d| d.secondary)
    });
    config.meters.iter().position(|m| match secondary {
        Some(s) => m.secondary == Some(s),
        None => m.addressing == Addressing::Primary && Some(m.primary) == found.primary,
    })
}

/// Adds the found meters that are not configured yet (see [`configured`]) to `config`;
/// returns the ids given to them.
pub fn adopt(config: &mut Config, found: &[DiscoveredMeter], builtin: &[Template]) -> Vec<u32> {
    let mut added = Vec::new();
    for f in found {
        if configured(config, f).is_some() {
            continue;
        }
        let id = config.next_meter_id();
        let meter = meter_from_found(id, f, &config.templates, builtin);
        config.meters.push(meter);
        added.push(id);
    }
    added
}

/// A meter added by hand: by primary address, or by secondary address (then `primary` is
/// informational), at `baud` (2400 when `None`). Registers are created at its first read.
pub fn manual_meter(
    config: &Config,
    primary: u8,
    secondary: Option<SecondaryAddress>,
    baud: Option<BaudRate>,
) -> Meter {
    let found = DiscoveredMeter {
        primary: Some(primary),
        secondary,
        baud: baud.unwrap_or(BaudRate::B2400),
        telegrams: Vec::new(),
    };
    meter_from_found(config.next_meter_id(), &found, &[], &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::frame as corpus;

    #[test]
    fn found_meters_are_named_addressed_and_get_registers() {
        let mut config = Config::default();
        let found = DiscoveredMeter {
            primary: Some(5),
            secondary: None,
            baud: BaudRate::B2400,
            telegrams: vec![corpus("kamstrup_multical_601")],
        };
        let ids = adopt(&mut config, &[found.clone(), found], &[]);
        assert_eq!(ids, vec![1], "the second is the same meter");
        let m = &config.meters[0];
        assert!(m.name.starts_with("KAM heat 5 "), "{}", m.name);
        assert_eq!(m.addressing, Addressing::Secondary);
        assert_eq!(m.category, Category::Heat);
        assert!(!m.registers.is_empty());
        config.validate().unwrap();
    }

    #[test]
    fn templates_are_applied_to_new_meters() {
        let telegram = corpus("EMU_EMU-Professional-375-M-Bus");
        let data = MeterData::decode(&[&telegram]).unwrap();
        let kind = data.meter_type().unwrap();
        let mut seed_meter = meter_from_found(
            1,
            &DiscoveredMeter {
                primary: Some(1),
                secondary: None,
                baud: BaudRate::B2400,
                telegrams: vec![telegram.clone()],
            },
            &[],
            &[],
        );
        seed_meter.registers[1].name = "Wirkenergie T1".into();
        seed_meter.registers[1].unit = "kWh".into();
        seed_meter.registers[1].divisor = 1000.0;
        let t = Template::from_meter(&seed_meter, kind, "EMU Professional");
        let mut config = Config::default();
        config.templates.push(t);
        adopt(
            &mut config,
            &[DiscoveredMeter {
                primary: Some(9),
                secondary: None,
                baud: BaudRate::B9600,
                telegrams: vec![telegram],
            }],
            &[],
        );
        let m = &config.meters[0];
        assert_eq!(m.registers[1].name, "Wirkenergie T1");
        assert_eq!(m.registers[1].divisor, 1000.0);
        assert_eq!(m.baud, 9600);
    }

    #[test]
    fn manual_meters_default_to_2400_baud() {
        let config = Config::default();
        let m = manual_meter(&config, 7, None, None);
        assert_eq!(
            (m.baud, m.addressing, m.name.as_str()),
            (2400, Addressing::Primary, "??? unkn 7")
        );
        let s: SecondaryAddress = "12345678C5140B04".parse().unwrap();
        let m = manual_meter(&config, 0, Some(s), Some(BaudRate::B9600));
        assert_eq!(m.addressing, Addressing::Secondary);
        assert_eq!(m.name, format!("{} heat 0 12345678", m.manufacturer()));
    }
}
