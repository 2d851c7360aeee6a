//! `token::parse` on arbitrary UTF-8: segment splitting, lenient base64 and
//! JSON decoding never panic, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let t = jwtai::token::parse(text);
    let _ = (t.alg(), t.kid(), t.claims(), t.kind.as_str());
    let _ = format!("{t:?}");
});
