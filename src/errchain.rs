//! The causes below an error, for the messages of the two network edges
//! (the JWKS fetch and the model call), which name a TLS, DNS or refused
//! connection from what reqwest wraps.

use std::error::Error as StdError;
use std::io;

/// Every error in the chain below `err` (not `err` itself). `io::Error` hides its custom
/// payload from `source()` (and payloads nest: an io error wrapping an io
/// error wrapping a rustls error), so it is stepped into.
pub fn sources<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    fn next<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
        match e.downcast_ref::<io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner),
                None => e.source(),
            },
            None => e.source(),
        }
    }
    let mut out = Vec::new();
    let mut cur = next(err);
    while let Some(e) = cur {
        out.push(e);
        if out.len() > 32 {
            break;
        }
        cur = next(e);
    }
    out
}
