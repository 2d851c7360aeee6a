//! Model answers cached by the hash of the exact request, so re-running the
//! same diagnosis costs no second call. Streaming and non-streaming runs of
//! the same conversation share an entry.

use super::{Message, Settings};

/// SHA-256 of the endpoint and the request body without its `stream` flag.
pub fn key(settings: &Settings, messages: &[Message]) -> String {
    let body = super::client::request_body(settings, messages, false);
    let mut bytes = settings.api_base.trim_end_matches('/').as_bytes().to_vec();
    bytes.push(b'\n');
    bytes.extend(serde_json::to_vec(&body).unwrap_or_default());
    crate::cachedir::key(&bytes)
}

pub fn load(settings: &Settings, key: &str) -> Option<String> {
    let dir = settings.cache_dir.as_ref()?;
    let text = std::fs::read_to_string(dir.join(format!("{key}.json"))).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("text")?.as_str().map(str::to_string)
}

pub fn store(settings: &Settings, key: &str, text: &str) {
    if let Some(dir) = settings.cache_dir.as_ref() {
        let entry = serde_json::json!({"model": settings.model, "text": text});
        let _ = crate::cachedir::write_private(
            dir,
            &format!("{key}.json"),
            entry.to_string().as_bytes(),
        );
    }
}
