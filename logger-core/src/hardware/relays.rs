//! When the fault relays switch: each relay follows the faults its configuration names (bus
//! overload, an unreadable meter) and releases when none of them is present any more. The
//! changes come back as a list, so the caller switches the outputs and logs both edges.

use serde::{Deserialize, Serialize};

/// Which faults switch a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RelayRule {
    /// Switch while the bus is overloaded (short circuit).
    pub on_overload: bool,
    /// Switch while at least one meter could not be read.
    pub on_read_failure: bool,
}

impl Default for RelayRule {
    fn default() -> Self {
        RelayRule {
            on_overload: true,
            on_read_failure: true,
        }
    }
}

/// The faults present now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// The bus is overloaded.
    pub overload: bool,
    /// Meters whose last read failed.
    pub unreadable: usize,
}

/// A relay to switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayChange {
    /// The relay (0-based).
    pub relay: usize,
    /// Switched on (fault) or released.
    pub on: bool,
    /// Why, for the event log.
    pub reason: String,
}

/// The relays' rules and current states.
#[derive(Debug, Clone)]
pub struct RelayLogic {
    rules: Vec<RelayRule>,
    states: Vec<bool>,
}

impl RelayLogic {
    /// All relays released.
    pub fn new(rules: Vec<RelayRule>) -> RelayLogic {
        let states = vec![false; rules.len()];
        RelayLogic { rules, states }
    }

    /// The relays' states (on = switched).
    pub fn states(&self) -> &[bool] {
        &self.states
    }

    /// The relays that change with `faults`.
    pub fn update(&mut self, faults: Faults) -> Vec<RelayChange> {
        let mut changes = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let mut reasons = Vec::new();
            if rule.on_overload && faults.overload {
                reasons.push("M-Bus overload".to_string());
            }
            if rule.on_read_failure && faults.unreadable > 0 {
                reasons.push(format!("{} meter(s) unreadable", faults.unreadable));
            }
            let on = !reasons.is_empty();
            if on != self.states[i] {
                self.states[i] = on;
                changes.push(RelayChange {
                    relay: i,
                    on,
                    reason: if on {
                        reasons.join(", ")
                    } else {
                        "fault cleared".to_string()
                    },
                });
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_switch_with_their_faults_and_release_when_they_clear() {
        let overload_only = RelayRule {
            on_overload: true,
            on_read_failure: false,
        };
        let mut logic = RelayLogic::new(vec![RelayRule::default(), overload_only]);
        assert!(logic.update(Faults::default()).is_empty());
        let changes = logic.update(Faults {
            overload: false,
            unreadable: 2,
        });
        assert_eq!(
            changes,
            vec![RelayChange {
                relay: 0,
                on: true,
                reason: "2 meter(s) unreadable".into()
            }]
        );
        let changes = logic.update(Faults {
            overload: true,
            unreadable: 2,
        });
        assert_eq!(changes.len(), 1, "relay 1 is on already");
        assert_eq!((changes[0].relay, changes[0].on), (1, true));
        assert_eq!(changes[0].reason, "M-Bus overload");
        assert_eq!(logic.states(), [true, true]);
        assert!(logic
            .update(Faults {
                overload: true,
                unreadable: 3
            })
            .is_empty());
        let changes = logic.update(Faults::default());
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| !c.on && c.reason == "fault cleared"));
        assert_eq!(logic.states(), [false, false]);
    }
}
