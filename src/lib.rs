//! jwtai: tells a developer why a JSON Web Token is rejected, and how to fix it.
//!
//! The data flows one way through the modules:
//! argv (`cli`) → `input` → `token` (+ `keys`) → `checks` → `report` →
//! `redact` → `render`.

pub mod alg;
pub mod errortext;
pub mod findings;
