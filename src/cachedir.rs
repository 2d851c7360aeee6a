//! The user's cache directory for jwtai, and private files in it.
//!
//! Everything jwtai keeps between runs (fetched key sets, model answers, the
//! masking key) is under one root — `$JWTAI_CACHE_DIR`, or the platform cache
//! dir plus `jwtai` — in directories only the user can enter (0700) and files
//! only the user can read (0600). A cache that cannot be written is skipped,
//! never an error.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `$JWTAI_CACHE_DIR` if set and non-empty, else `<user cache dir>/jwtai`.
pub fn root() -> Option<PathBuf> {
    match std::env::var_os("JWTAI_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("jwtai")),
    }
}

/// SHA-256 hex of some bytes: a cache file stem (and the digests in
/// `suggest-tests`' manifest of the files it wrote).
pub fn key(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn create_private_dir(dir: &Path) -> Option<()> {
    if dir.is_dir() {
        return Some(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).ok()
}

/// Writes `bytes` to `dir/name` atomically (temp file, then rename), 0600.
pub fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Option<()> {
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| fs::rename(&tmp, dir.join(name)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return None;
    }
    Some(())
}

/// The per-user masking key: random, created on first use, kept private, so
/// masked values hash the same across runs (reports compare, cached model
/// answers hit) while nobody else can confirm a guessed value.
pub fn mask_key() -> Option<Vec<u8>> {
    let dir = root()?;
    let path = dir.join("mask.key");
    if let Ok(k) = fs::read(&path) {
        if k.len() == 32 {
            return Some(k);
        }
    }
    let mut k = vec![0u8; 32];
    getrandom::fill(&mut k).ok()?;
    write_private(&dir, "mask.key", &k)?;
    Some(k)
}
