//! The UI's texts in English and German. The German texts use the terms of the reference
//! appliance's manual (Übersicht Zähler, Konfiguration Logger, Auslesestatus, Suchlauf …).
//!
//! To add a text: a variant of [`Text`] and one line in [`Text::get`] with both languages.

use logger_core::config::Category;
use logger_core::status::{LoggerState, ReadStatus};
use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// German.
    De,
}

impl Lang {
    /// The language tag (`en`, `de`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language of a tag; `None` for others.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }
}

/// Every text of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the English text says what each is
pub enum Text {
    AppName,
    Start,
    MeterOverview,
    MeterConfiguration,
    LoggerConfiguration,
    SystemIntegration,
    Login,
    Logout,
    User,
    Password,
    LoginFailed,
    TooManyLogins,
    ChangePassword,
    ChangePasswordFirst,
    CurrentPassword,
    NewPassword,
    RepeatPassword,
    PasswordsDiffer,
    Save,
    Language,
    State,
    Name,
    SecondaryAddress,
    PrimaryAddress,
    Manufacturer,
    Medium,
    LastReading,
    Values,
    Status,
    NoMeters,
    NextRead,
    SkipToContent,
    NewData,
    // Meter pages
    MeterDetails,
    Register,
    Description,
    Value,
    Unit,
    MeterUnit,
    Time,
    ReadAt,
    HistoricalReading,
    DateTime,
    Show,
    NoReadingAt,
    NoReadingYet,
    Chart,
    Consumption,
    Mean,
    Day,
    Week,
    Month,
    Year,
    Earlier,
    Later,
    NoChartData,
    NoChartRegister,
    Total,
    RegisterTable,
    Phase,
    Divisor,
    StorageNumber,
    Tariff,
    Off,
    EditMeter,
    Search,
    SearchBy,
    BaudRate,
    AllBauds,
    StartSearch,
    Cancel,
    SearchRunning,
    SearchDone,
    SearchCancelled,
    SearchFailed,
    NoSearchYet,
    MetersFound,
    MetersAdded,
    Refresh,
    ManualAdd,
    Addressing,
    Add,
    Standard,
    Templates,
    DeviceName,
    Version,
    ValueCount,
    Battery,
    Builtin,
    Own,
    Source,
    ExportTemplates,
    ImportTemplates,
    TemplateFile,
    Import,
    Meters,
    Edit,
    ReadCycle,
    Location,
    CostCentre,
    Comment,
    MeterType,
    SaveAsTemplate,
    ApplyTemplate,
    Delete,
    DeleteWarning,
    ConfirmDelete,
    Saved,
    MeterDeleted,
    MeterAdded,
    TemplatesImported,
    TemplateApplied,
    TemplateSaved,
    SearchStarted,
    SearchCancelRequested,
    FixErrors,
}

impl Text {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, de) = match self {
            Text::AppName => ("M-Bus Center", "M-BUS Center"),
            Text::Start => ("Start", "Start"),
            Text::MeterOverview => ("Meter overview", "Übersicht Zähler"),
            Text::MeterConfiguration => ("Meter configuration", "Konfiguration Zähler"),
            Text::LoggerConfiguration => ("Logger configuration", "Konfiguration Logger"),
            Text::SystemIntegration => ("System integration", "System-Integration"),
            Text::Login => ("Log in", "Anmelden"),
            Text::Logout => ("Log out", "Abmelden"),
            Text::User => ("User name", "Name"),
            Text::Password => ("Password", "Passwort"),
            Text::LoginFailed => ("Wrong user name or password.", "Name oder Passwort falsch."),
            Text::TooManyLogins => (
                "Too many failed logins. Please wait a minute.",
                "Zu viele fehlgeschlagene Anmeldungen. Bitte eine Minute warten.",
            ),
            Text::ChangePassword => ("Change password", "Passwort ändern"),
            Text::ChangePasswordFirst => (
                "The default password must be changed before the logger can be used.",
                "Das Standardpasswort muss vor der Verwendung geändert werden.",
            ),
            Text::CurrentPassword => ("Current password", "Aktuelles Passwort"),
            Text::NewPassword => (
                "New password (at least 8 characters)",
                "Neues Passwort (mindestens 8 Zeichen)",
            ),
            Text::RepeatPassword => ("Repeat the new password", "Neues Passwort wiederholen"),
            Text::PasswordsDiffer => (
                "The two new passwords differ.",
                "Die beiden neuen Passwörter stimmen nicht überein.",
            ),
            Text::Save => ("Save", "Speichern"),
            Text::Language => ("Language", "Sprache"),
            Text::State => ("State", "Zustand"),
            Text::Name => ("Name", "Name"),
            Text::SecondaryAddress => ("Secondary address", "Sekundäradresse"),
            Text::PrimaryAddress => ("Primary address", "Primäradresse"),
            Text::Manufacturer => ("Manufacturer", "Hersteller"),
            Text::Medium => ("Medium", "Medium"),
            Text::LastReading => ("Last reading", "Letzte Lesung"),
            Text::Values => ("Values", "Messwerte"),
            Text::Status => ("Status", "Status"),
            Text::NoMeters => (
                "No meters yet. Start a search under Meter configuration.",
                "Noch keine Zähler. Suchlauf unter Konfiguration Zähler starten.",
            ),
            Text::NextRead => ("Next read", "Nächste Auslesung"),
            Text::SkipToContent => ("Skip to content", "Zum Inhalt springen"),
            Text::NewData => ("New readings", "Neue Messwerte"),
            // Meter pages
            Text::MeterDetails => ("Meter details", "Zählerdetails"),
            Text::Register => ("Register", "Register"),
            Text::Description => ("Description", "Bezeichnung"),
            Text::Value => ("Value", "Wert"),
            Text::Unit => ("Unit", "Einheit"),
            Text::MeterUnit => ("Meter unit", "Einheit Zähler"),
            Text::Time => ("Time", "Zeit"),
            Text::ReadAt => ("Read at", "Gelesen am"),
            Text::HistoricalReading => (
                "Values at a historical date",
                "Messwerte zu einem historischen Datum",
            ),
            Text::DateTime => ("Date and time", "Datum/Zeit"),
            Text::Show => ("Show", "Anzeigen"),
            Text::NoReadingAt => (
                "No reading is stored at or before this time.",
                "Zu diesem Zeitpunkt ist keine Lesung gespeichert.",
            ),
            Text::NoReadingYet => ("No reading stored yet.", "Noch keine Lesung gespeichert."),
            Text::Chart => ("Chart", "Chart-Ansicht"),
            Text::Consumption => ("Consumption", "Verbrauch"),
            Text::Mean => ("Mean", "Mittelwert"),
            Text::Day => ("Day", "Tag"),
            Text::Week => ("Week", "Woche"),
            Text::Month => ("Month", "Monat"),
            Text::Year => ("Year", "Jahr"),
            Text::Earlier => ("Earlier", "Früher"),
            Text::Later => ("Later", "Später"),
            Text::NoChartData => (
                "No readings in this period.",
                "Keine Messwerte in diesem Zeitraum.",
            ),
            Text::NoChartRegister => (
                "This meter logs no current value to chart.",
                "Dieser Zähler speichert keinen aktuellen Wert für die Chart-Ansicht.",
            ),
            Text::Total => ("Total", "Summe"),
            Text::RegisterTable => ("Register configuration", "Registerkonfiguration"),
            Text::Phase => ("Phase", "Phase"),
            Text::Divisor => ("Divisor", "Divisor"),
            Text::StorageNumber => ("Storage", "Mon."),
            Text::Tariff => ("Tariff", "Tarif"),
            Text::Off => ("Off", "Aus"),
            Text::EditMeter => ("Edit meter", "Zähler bearbeiten"),
            Text::Search => ("Search", "Suchen"),
            Text::SearchBy => ("Search by", "Suchlauf via"),
            Text::BaudRate => ("Baud rate", "Baudrate"),
            Text::AllBauds => ("all", "alle"),
            Text::StartSearch => ("Start search", "Suchlauf starten"),
            Text::Cancel => ("Cancel", "Abbrechen"),
            Text::SearchRunning => ("Search running", "Suchlauf läuft"),
            Text::SearchDone => ("Search finished", "Suchlauf beendet"),
            Text::SearchCancelled => ("Search cancelled", "Suchlauf abgebrochen"),
            Text::SearchFailed => ("Search failed", "Suchlauf fehlgeschlagen"),
            Text::NoSearchYet => (
                "No search since the start.",
                "Seit dem Start kein Suchlauf.",
            ),
            Text::MetersFound => ("Meters found", "Gefundene Zähler"),
            Text::MetersAdded => ("Meters added", "Neu erfasste Zähler"),
            Text::Refresh => ("Refresh", "Aktualisieren"),
            Text::ManualAdd => ("Manual add", "Manuelle Zählererfassung"),
            Text::Addressing => ("Addressing", "Adressierungsart"),
            Text::Add => ("Add", "Erfassen"),
            Text::Standard => ("Standard", "Standard"),
            Text::Templates => ("Templates", "Vorlagen"),
            Text::DeviceName => ("Device name", "Gerätebezeichnung"),
            Text::Version => ("Version", "Version"),
            Text::ValueCount => ("Values", "Werte"),
            Text::Battery => ("Battery", "Batterie"),
            Text::Builtin => ("built in", "Auslieferungszustand"),
            Text::Own => ("own", "eigene"),
            Text::Source => ("Source", "Herkunft"),
            Text::ExportTemplates => ("Export templates (JSON)", "Vorlagen exportieren (JSON)"),
            Text::ImportTemplates => ("Import templates", "Vorlagen importieren"),
            Text::TemplateFile => ("Template file (JSON text)", "Vorlagendatei (JSON-Text)"),
            Text::Import => ("Import", "Importieren"),
            Text::Meters => ("Meters", "Zähler"),
            Text::Edit => ("Edit", "Bearbeiten"),
            Text::ReadCycle => ("Read cycle", "Auslesezyklus"),
            Text::Location => ("Location", "Standort"),
            Text::CostCentre => ("Cost centre", "Kostenstelle"),
            Text::Comment => ("Comment", "Kommentar"),
            Text::MeterType => ("Type", "Typ"),
            Text::SaveAsTemplate => ("Save as template", "Als Vorlage speichern"),
            Text::ApplyTemplate => ("Apply template", "Vorlage anwenden"),
            Text::Delete => ("Delete", "Löschen"),
            Text::DeleteWarning => (
                "Deleting the meter removes all its stored readings.",
                "Warnung: Somit gehen alle historischen Daten des Zählers verloren.",
            ),
            Text::ConfirmDelete => (
                "Delete the meter and its history",
                "Zähler und seine Daten löschen",
            ),
            Text::Saved => ("Saved.", "Gespeichert."),
            Text::MeterDeleted => (
                "Meter deleted with its history.",
                "Zähler mit seinen Daten gelöscht.",
            ),
            Text::MeterAdded => ("Meter added.", "Zähler erfasst."),
            Text::TemplatesImported => ("Templates imported.", "Vorlagen importiert."),
            Text::TemplateApplied => ("Template applied.", "Vorlage angewendet."),
            Text::TemplateSaved => ("Template saved.", "Vorlage gespeichert."),
            Text::SearchStarted => ("Search started.", "Suchlauf gestartet."),
            Text::SearchCancelRequested => (
                "The search stops after the current probe.",
                "Der Suchlauf wird nach der laufenden Abfrage beendet.",
            ),
            Text::FixErrors => (
                "Please correct the marked fields.",
                "Bitte die markierten Felder korrigieren.",
            ),
        };
        match lang {
            Lang::En => en,
            Lang::De => de,
        }
    }
}

/// The name of an overview group (medium).
pub fn category(c: Category, lang: Lang) -> &'static str {
    let (en, de) = match c {
        Category::Heat => ("Heat", "Wärme"),
        Category::WarmWater => ("Warm water", "Warmwasser"),
        Category::Water => ("Water", "Wasser"),
        Category::Electricity => ("Electricity", "Elektrizität"),
        Category::Gas => ("Gas", "Gas"),
        Category::Cooling => ("Cooling", "Kälte"),
        Category::Other => ("Other", "Andere"),
    };
    if lang == Lang::De {
        de
    } else {
        en
    }
}

/// A meter's read status ("Auslesestatus").
pub fn read_status(s: ReadStatus, lang: Lang) -> &'static str {
    let (en, de) = match s {
        ReadStatus::NeverRead => ("never read", "Zähler wurde noch nie ausgelesen"),
        ReadStatus::Ok => ("last read ok", "letzte Zählerauslesung erfolgreich"),
        ReadStatus::OkWithErrors => (
            "read ok, the meter reports errors",
            "Zähler meldet Fehler in einem Register bei letzter Auslesung",
        ),
        ReadStatus::Failed => ("last read failed", "letzte Zählerauslesung fehlgeschlagen"),
        ReadStatus::Encrypted => ("encrypted, key needed", "verschlüsselt, Schlüssel nötig"),
    };
    if lang == Lang::De {
        de
    } else {
        en
    }
}

/// The logger state as the footer shows it (the short name stays, as on the device display).
pub fn state(s: LoggerState, lang: Lang) -> &'static str {
    let (en, de) = match s {
        LoggerState::Idle => ("idle", "Leerlauf"),
        LoggerState::Scan => ("scan", "Suchlauf"),
        LoggerState::Read => ("read", "Auslesung"),
        LoggerState::Rs => ("rs", "Pegelwandler"),
        LoggerState::Err => ("err", "Fehler"),
    };
    if lang == Lang::De {
        de
    } else {
        en
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_uses_the_manuals_terms_and_tags_round_trip() {
        assert_eq!(Text::MeterOverview.get(Lang::De), "Übersicht Zähler");
        assert_eq!(
            Text::LoggerConfiguration.get(Lang::De),
            "Konfiguration Logger"
        );
        assert_eq!(state(LoggerState::Scan, Lang::De), "Suchlauf");
        assert_eq!(Lang::from_tag(Lang::De.tag()), Some(Lang::De));
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
