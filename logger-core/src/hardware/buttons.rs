//! The two front buttons as a state machine on any monotonic clock (virtual time in tests):
//!
//! | button | held | action |
//! |---|---|---|
//! | red | more than 5 s, released | scan by secondary address at every baud rate |
//! | blue | 1 s to 5 s, released | network configuration mode |
//! | red and blue | more than 10 s together | restart (fires while still held) |
//!
//! Single-button actions fire on release, so pressing red first and blue a moment later
//! never starts a scan on the way to a restart: once both were down together, nothing fires
//! until both are up again, apart from the restart itself.

use std::time::Duration;

/// A front button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Button {
    /// The red button.
    Red,
    /// The blue button.
    Blue,
}

/// A button went down or up at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonEdge {
    /// Which button.
    pub button: Button,
    /// Down (`true`) or up.
    pub pressed: bool,
    /// When, on the backend's monotonic clock.
    pub at: Duration,
}

/// What a button gesture asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    /// Secondary-address scan over all baud rates.
    ScanAllBauds,
    /// Network configuration mode.
    NetworkSetup,
    /// Restart the logger.
    Restart,
}

/// How long the red button must be held for a scan.
pub const SCAN_HOLD: Duration = Duration::from_secs(5);
/// The blue button's window for network configuration.
pub const NETWORK_HOLD: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(5));
/// How long both buttons must be held together for a restart.
pub const RESTART_HOLD: Duration = Duration::from_secs(10);

/// The gesture recogniser.
#[derive(Debug, Clone, Default)]
pub struct ButtonMachine {
    red: Option<Duration>,
    blue: Option<Duration>,
    both_since: Option<Duration>,
    combined: bool,
    restarted: bool,
}

impl ButtonMachine {
    /// A machine with both buttons up.
    pub fn new() -> ButtonMachine {
        ButtonMachine::default()
    }

    /// Takes an edge; returns the action it completes, if any.
    pub fn edge(&mut self, edge: ButtonEdge) -> Option<ButtonAction> {
        let fired = self.tick(edge.at);
        let slot = match edge.button {
            Button::Red => &mut self.red,
            Button::Blue => &mut self.blue,
        };
        let released = match (edge.pressed, *slot) {
            (true, None) => {
                *slot = Some(edge.at);
                None
            }
            (false, Some(since)) => {
                *slot = None;
                Some(edge.at.saturating_sub(since))
            }
            // A repeated edge (missed the other one): keep the state.
            _ => None,
        };
        if self.red.is_some() && self.blue.is_some() {
            self.combined = true;
            self.both_since.get_or_insert(edge.at);
        } else {
            self.both_since = None;
        }
        let action = match (released, self.combined) {
            (Some(held), false) => match edge.button {
                Button::Red if held > SCAN_HOLD => Some(ButtonAction::ScanAllBauds),
                Button::Blue if (NETWORK_HOLD.0..=NETWORK_HOLD.1).contains(&held) => {
                    Some(ButtonAction::NetworkSetup)
                }
                _ => None,
            },
            _ => None,
        };
        if self.red.is_none() && self.blue.is_none() {
            self.combined = false;
            self.restarted = false;
        }
        fired.or(action)
    }

    /// Lets time pass: fires the restart once both buttons have been held long enough.
    pub fn tick(&mut self, now: Duration) -> Option<ButtonAction> {
        match self.both_since {
            Some(since) if !self.restarted && now.saturating_sub(since) > RESTART_HOLD => {
                self.restarted = true;
                Some(ButtonAction::Restart)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: f64) -> Duration {
        Duration::from_secs_f64(v)
    }

    fn press(m: &mut ButtonMachine, button: Button, from: f64, to: f64) -> Vec<ButtonAction> {
        let mut out = Vec::new();
        out.extend(m.edge(ButtonEdge {
            button,
            pressed: true,
            at: s(from),
        }));
        out.extend(m.edge(ButtonEdge {
            button,
            pressed: false,
            at: s(to),
        }));
        out
    }

    #[test]
    fn single_button_gestures_follow_the_hold_time() {
        let mut m = ButtonMachine::new();
        assert_eq!(press(&mut m, Button::Red, 0.0, 4.9), vec![]);
        assert_eq!(
            press(&mut m, Button::Red, 10.0, 15.1),
            vec![ButtonAction::ScanAllBauds]
        );
        assert_eq!(press(&mut m, Button::Blue, 20.0, 20.5), vec![]);
        assert_eq!(
            press(&mut m, Button::Blue, 30.0, 31.0),
            vec![ButtonAction::NetworkSetup]
        );
        assert_eq!(
            press(&mut m, Button::Blue, 40.0, 44.9),
            vec![ButtonAction::NetworkSetup]
        );
        assert_eq!(press(&mut m, Button::Blue, 50.0, 56.0), vec![]);
    }

    #[test]
    fn both_buttons_for_ten_seconds_restart_once_and_nothing_else_fires() {
        let mut m = ButtonMachine::new();
        let edge = |button, pressed, at| ButtonEdge {
            button,
            pressed,
            at: s(at),
        };
        assert_eq!(m.edge(edge(Button::Red, true, 0.0)), None);
        assert_eq!(m.edge(edge(Button::Blue, true, 0.5)), None);
        assert_eq!(m.tick(s(10.4)), None);
        assert_eq!(m.tick(s(10.6)), Some(ButtonAction::Restart));
        assert_eq!(m.tick(s(20.0)), None, "once per gesture");
        // Red was held 12 s, but it was part of the combination: no scan.
        assert_eq!(m.edge(edge(Button::Red, false, 12.0)), None);
        assert_eq!(m.edge(edge(Button::Blue, false, 13.0)), None);
        // A short combination does nothing, and the next gesture works again.
        assert_eq!(m.edge(edge(Button::Blue, true, 20.0)), None);
        assert_eq!(m.edge(edge(Button::Red, true, 20.2)), None);
        assert_eq!(m.edge(edge(Button::Red, false, 25.0)), None);
        assert_eq!(m.edge(edge(Button::Blue, false, 26.5)), None);
        assert_eq!(
            press(&mut m, Button::Red, 30.0, 36.0),
            vec![ButtonAction::ScanAllBauds]
        );
    }

    #[test]
    fn a_restart_is_noticed_at_the_next_edge_even_without_ticks() {
        let mut m = ButtonMachine::new();
        let edge = |button, pressed, at| ButtonEdge {
            button,
            pressed,
            at: s(at),
        };
        m.edge(edge(Button::Blue, true, 0.0));
        m.edge(edge(Button::Red, true, 0.0));
        assert_eq!(
            m.edge(edge(Button::Red, false, 11.0)),
            Some(ButtonAction::Restart)
        );
        assert_eq!(m.edge(edge(Button::Blue, false, 11.5)), None);
    }
}
