//! jwtai: tells a developer why a JSON Web Token is rejected, and how to fix it.
//!
//! The data flows one way through the modules:
//! argv (`cli`) → `input` → `token` → `checks` → `report` → `redact` → `render`.
//! [`run`] reads as that chain; `main` only maps its result to an exit status.

pub mod ai;
pub mod alg;
mod app;
pub mod cachedir;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod debug;
pub mod errchain;
pub mod errortext;
pub mod fetch;
pub mod findings;
pub mod input;
pub mod jsontype;
pub mod jwks;
pub mod keys;
pub mod pipeline;
pub mod redact;
pub mod render;
pub mod report;
pub mod scan;
pub mod sensitive;
pub mod sign;
pub mod suggest;
pub mod token;
pub mod untrusted;
pub mod verify;

use crate::cli::Command;

/// Exit statuses of `cli.md`, in one place.
pub mod exit {
    /// No error-severity finding.
    pub const OK: u8 = 0;
    /// At least one error finding.
    pub const FINDINGS: u8 = 1;
    /// Usage or input error.
    pub const USAGE: u8 = 2;
}

/// Runs one command; `Err` is a usage or input error (exit 2).
pub fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    debug::init(cli.debug);
    match cli.command {
        Command::Diagnose(args) => app::diagnose::run(*args),
        Command::Decode(args) => app::decode::run(args),
        Command::ExplainCode(args) => app::explain_code::run(args),
        Command::Jwks(args) => app::jwks::run(args),
        Command::SuggestTests(args) => app::suggest_tests::run(*args),
        Command::Scan(args) => app::scan::run(*args),
    }
}
