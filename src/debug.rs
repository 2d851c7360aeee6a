//! `--debug` / `RUST_LOG=debug`: what each stage did and how long it took, on
//! stderr.
//!
//! Every line goes through the same free-text redaction as anything sent to a
//! model (any JWT, anything shaped like personal data or a secret is masked),
//! and callers only pass counts, labels and codes — never token text, claim
//! values or secrets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ON: AtomicBool = AtomicBool::new(false);

/// Turns debug output on for `--debug`, or when `RUST_LOG` asks for debug or
/// trace (for jwtai or globally).
pub fn init(flag: bool) {
    let from_env = std::env::var("RUST_LOG").is_ok_and(|v| {
        v.split(',').any(|d| {
            let level = d.rsplit('=').next().unwrap_or("").trim();
            let target = d.split('=').next().unwrap_or("").trim();
            matches!(level, "debug" | "trace") && (target == "jwtai" || !d.contains('='))
        })
    });
    ON.store(flag || from_env, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Writes one redacted line when debug output is on.
pub fn log(stage: &str, message: impl FnOnce() -> String) {
    if enabled() {
        eprintln!(
            "jwtai[debug] {stage}: {}",
            crate::redact::free_text(&message())
        );
    }
}

/// Times a stage: logs its duration when dropped.
pub struct Timer {
    stage: &'static str,
    started: Instant,
}

impl Timer {
    pub fn start(stage: &'static str) -> Timer {
        Timer {
            stage,
            started: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let stage = self.stage;
        let elapsed = self.started.elapsed();
        log(stage, || format!("took {} µs", elapsed.as_micros()));
    }
}
