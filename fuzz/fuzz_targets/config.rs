//! Configuration import (backup restore, `config.json`): any text must give a configuration or
//! an error naming the problem, never a panic; whatever is accepted must be valid and survive
//! its own backup.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logger_core::config::Config;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = core::str::from_utf8(input) else {
        return;
    };
    match Config::from_json(text) {
        Ok(config) => {
            assert!(config.validate().is_ok());
            assert_eq!(Config::from_json(&config.to_json()).ok(), Some(config));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let _ = logger_core::template::import(text);
});
