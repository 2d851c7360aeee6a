//! `token::json::parse_object` on arbitrary bytes (a decoded header or
//! payload): duplicate detection and error classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    match jwtai::token::json::parse_object(bytes) {
        Ok(obj) => {
            for d in &obj.duplicates {
                assert!(obj.map.contains_key(d));
            }
        }
        Err(issue) => {
            let _ = issue.to_string();
        }
    }
});
