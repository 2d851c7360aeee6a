//! `input::extract` on arbitrary UTF-8: unwrapping Bearer prefixes, header
//! lines, cookies, quotes, JSON bodies and curl commands must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let e = jwtai::input::extract(text);
    // Unwrapping only ever removes text.
    assert!(e.token.len() <= text.len());
    for w in &e.wrappers {
        let _ = w.describe();
    }
});
