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
