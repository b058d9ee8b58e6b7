//! Exports as users ask for them: dates, chosen meters and the logger's configuration.

use super::{
    export_zip, Bound, ExportError, ExportOptions, ExportSummary, Filter, Format, MeterDescriptor,
    RegisterDescriptor,
};
use crate::config::{Config, ConfigStore, Meter};
use crate::storage::{MeterId, Store, DATABASE_FILE_NAME};
use chrono::{DateTime, Utc};
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::Path;

/// An export as the web form or the command line gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    /// First day (or local time) included.
    pub from: Bound,
    /// Last day included (or first local time excluded).
    pub to: Bound,
    /// CSV (with layout and separator) or JSON.
    pub format: Format,
    /// All readings or the last per hour/day/month.
    pub filter: Filter,
    /// Ids of the chosen meters in the order wanted; empty chooses every configured meter.
    pub meters: Vec<u32>,
    /// When the export is made (names the files).
    pub exported_at: DateTime<Utc>,
}

impl MeterDescriptor {
    /// The export's view of a configured meter: its logged (not `off`) registers; the
    /// secondary address shown is its 16-character text as libmbus writes it (ident digits,
    /// then manufacturer, version and medium bytes in wire order), or the primary address for
    /// a meter whose secondary address is not known.
    pub fn from_config(meter: &Meter) -> MeterDescriptor {
        MeterDescriptor {
            id: MeterId(meter.id),
            name: meter.name.clone(),
            secondary: match meter.secondary {
                Some(address) => address.to_string(),
                None => meter.primary.to_string(),
            },
            manufacturer: meter
                .secondary
                .map(|a| String::from_utf8_lossy(&a.manufacturer_letters()).into_owned())
                .unwrap_or_default(),
            medium: meter.medium_name().to_owned(),
            registers: meter
                .registers
                .iter()
                .filter(|r| !r.off)
                .map(|r| RegisterDescriptor {
                    index: r.index as usize,
                    name: r.name.clone(),
                    description: r.description.clone(),
                    unit: r.unit.clone(),
                    phase: r.phase,
                    divisor: r.divisor,
                    storage_number: r.storage,
                    tariff: r.tariff,
                })
                .collect(),
        }
    }
}

impl ExportRequest {
    /// The meters and options of this request under `config` (its time zone and meters).
    pub fn resolve(
        &self,
        config: &Config,
    ) -> Result<(Vec<MeterDescriptor>, ExportOptions), ExportError> {
        let time_zone = config.tz();
        let options = ExportOptions {
            from: self.from.start(time_zone)?,
            to: self.to.end(time_zone)?,
            format: self.format,
            filter: self.filter,
            time_zone,
            exported_at: self.exported_at,
        };
        let meters = if self.meters.is_empty() {
            config
                .meters
                .iter()
                .map(MeterDescriptor::from_config)
                .collect()
        } else {
            self.meters
                .iter()
                .map(|&id| {
                    config
                        .meter(id)
                        .map(MeterDescriptor::from_config)
                        .ok_or(ExportError::UnknownMeter(id))
                })
                .collect::<Result<_, _>>()?
        };
        Ok((meters, options))
    }
}

/// Exports from a logger's data directory (its configuration and readings database) into the
/// ZIP file `out`. The file appears only when complete: it is written under a temporary name
/// and renamed; on error nothing is left behind.
pub fn export_data_dir(
    data_dir: &Path,
    request: &ExportRequest,
    out: &Path,
) -> Result<ExportSummary, ExportError> {
    let config = ConfigStore::new(data_dir).load_or_default()?;
    let (meters, options) = request.resolve(&config)?;
    let store = Store::open_existing(data_dir.join(DATABASE_FILE_NAME))?;
    let mut tmp_name = out.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = Path::new(&tmp_name);
    let result = (|| {
        let file = File::create(tmp)?;
        let mut writer = BufWriter::new(file);
        let summary = export_zip(&store, &meters, &options, &mut writer)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(tmp, out)?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}
