//! `mbusctl export`: stored readings of a logger's data directory into a ZIP of CSV or JSON
//! files, one per meter (the appliance's manual export).

use crate::exit::Exit;
use logger_core::export::{
    export_data_dir, Bound, CsvLayout, ExportError, ExportRequest, Filter, Format, Separator,
};
use std::path::PathBuf;

/// Arguments of `mbusctl export`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger (its configuration and readings database).
    #[arg(long)]
    data_dir: PathBuf,
    /// First day exported (YYYY-MM-DD), or a local time (YYYY-MM-DDTHH:MM[:SS]) in the
    /// logger's time zone.
    #[arg(long)]
    from: Bound,
    /// Last day exported (the whole day), or the local time where the export ends.
    #[arg(long)]
    to: Bound,
    /// File format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,
    /// Every reading, or the last one per hour, day or month.
    #[arg(long, value_enum, default_value_t = FilterArg::All)]
    filter: FilterArg,
    /// CSV columns: one row per reading, or one row per value with every stored column.
    #[arg(long, value_enum, default_value_t = CsvOptions::Standard)]
    csv_options: CsvOptions,
    /// CSV field separator.
    #[arg(long, value_enum, default_value_t = SeparatorArg::Semicolon)]
    separator: SeparatorArg,
    /// Meter ids to export (repeat or separate with commas); every configured meter if none.
    #[arg(long = "meter", value_name = "ID", value_delimiter = ',')]
    meters: Vec<u32>,
    /// The ZIP file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Csv,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FilterArg {
    Hour,
    Day,
    Month,
    All,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CsvOptions {
    Standard,
    Full,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SeparatorArg {
    Comma,
    Semicolon,
    Space,
    Tab,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv {
            layout: match args.csv_options {
                CsvOptions::Standard => CsvLayout::Standard,
                CsvOptions::Full => CsvLayout::FullDb,
            },
            separator: match args.separator {
                SeparatorArg::Comma => Separator::Comma,
                SeparatorArg::Semicolon => Separator::Semicolon,
                SeparatorArg::Space => Separator::Space,
                SeparatorArg::Tab => Separator::Tab,
            },
        },
    };
    let request = ExportRequest {
        from: args.from,
        to: args.to,
        format,
        filter: match args.filter {
            FilterArg::Hour => Filter::Hour,
            FilterArg::Day => Filter::Day,
            FilterArg::Month => Filter::Month,
            FilterArg::All => Filter::All,
        },
        meters: args.meters,
        exported_at: chrono::Utc::now(),
    };
    match export_data_dir(&args.data_dir, &request, &args.out) {
        Ok(summary) => {
            for file in &summary.files {
                println!(
                    "{}\t{} readings\t{} values",
                    file.name, file.readings, file.values
                );
            }
            if summary.files.is_empty() {
                println!(
                    "no readings in the range: {} holds no file",
                    args.out.display()
                );
            } else {
                println!(
                    "{} file(s) written to {}",
                    summary.files.len(),
                    args.out.display()
                );
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("mbusctl export: {e}");
            match e {
                ExportError::EmptyRange { .. }
                | ExportError::DuplicateMeter(_)
                | ExportError::BadBound(_)
                | ExportError::Config(_)
                | ExportError::UnknownMeter(_) => Exit::BadInput,
                ExportError::Storage(_) | ExportError::Io(_) | ExportError::Zip(_) => Exit::Failure,
            }
        }
    }
}
