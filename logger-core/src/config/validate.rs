//! Collecting validation problems with the path of the field they concern.

use core::fmt;

/// One problem in a configuration, with the path of the field it concerns
/// (for example `meters[3].registers[2].divisor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field, `.`-separated, list positions in brackets.
    pub path: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Accumulates [`FieldError`]s while a configuration is checked.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) errors: Vec<FieldError>,
}

impl Problems {
    pub(crate) fn add(&mut self, path: impl Into<String>, problem: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.into(),
            problem: problem.into(),
        });
    }

    /// Adds a problem when `ok` is false.
    pub(crate) fn check(&mut self, ok: bool, path: impl fmt::Display, problem: &str) {
        if !ok {
            self.add(path.to_string(), problem);
        }
    }

    /// A text field: at most `max` characters, no control characters, optionally required.
    pub(crate) fn text(
        &mut self,
        path: impl fmt::Display,
        value: &str,
        max: usize,
        required: bool,
    ) {
        if required && value.trim().is_empty() {
            self.add(path.to_string(), "must not be empty");
        } else if value.chars().count() > max {
            self.add(
                path.to_string(),
                format!("must have at most {max} characters"),
            );
        } else if value.chars().any(char::is_control) {
            self.add(path.to_string(), "must not contain control characters");
        }
    }

    /// A host name or IP address text (no spaces, no scheme unless `allow_scheme`).
    pub(crate) fn host(&mut self, path: impl fmt::Display, value: &str) {
        let ok = !value.is_empty()
            && value.len() <= 253
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_' | '[' | ']')
            });
        if !ok {
            self.add(path.to_string(), "must be a host name or IP address");
        }
    }
}
