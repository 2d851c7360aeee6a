//! Tests against tiny scripted HTTP/1.1 servers on 127.0.0.1 (no internet).

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One thing the server does on a connection.
enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
}

type Handler = dyn Fn(&str, &str) -> Vec<Step> + Send + Sync;

struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Starts a server on its own thread and runtime; `handler(path, head)` scripts
/// each connection, which is closed after the last step.
fn serve(handler: impl Fn(&str, &str) -> Vec<Step> + Send + Sync + 'static) -> Server {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let port = std_listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let handler: Arc<Handler> = Arc::new(handler);
    let counter = hits.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                tokio::spawn(async move {
                    let head = read_head(&mut sock).await;
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    for step in handler(&path, &head) {
                        match step {
                            Step::Write(bytes) => {
                                if sock.write_all(&bytes).await.is_err() {
                                    return;
                                }
                                let _ = sock.flush().await;
                            }
                            Step::Sleep(d) => tokio::time::sleep(d).await,
                        }
                    }
                    let _ = sock.shutdown().await;
                });
            }
        });
    });
    Server {
        base: format!("http://127.0.0.1:{port}"),
        hits,
    }
}

/// Reads the request head (until a blank line, EOF, or 500 ms of silence).
async fn read_head(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
        match tokio::time::timeout(Duration::from_millis(500), sock.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A complete response with Content-Length and `Connection: close`.
fn http(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn respond(
    status: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
) -> impl Fn(&str, &str) -> Vec<Step> + Send + Sync + 'static {
    move |_, _| vec![Step::Write(http(status, headers, body))]
}

const JWKS: &[u8] = br#"{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}"#;

fn no_cache() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        use_cache: false,
        cache_dir: None,
        ..FetchOptions::default()
    }
}

fn with_cache(dir: &std::path::Path) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        use_cache: true,
        cache_dir: Some(dir.to_path_buf()),
        ..FetchOptions::default()
    }
}

fn cache_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

// ---------------------------------------------------------------- responses

#[test]
fn happy_path_200_json() {
    let s = serve(respond(
        "200 OK",
        &[("Content-Type", "application/json")],
        JWKS,
    ));
    let f = get(&s.url("/jwks.json"), &no_cache()).expect("fetch");
    assert_eq!(f.status, 200);
    assert_eq!(f.body, JWKS);
    assert_eq!(f.content_type.as_deref(), Some("application/json"));
    assert_eq!(f.url, s.url("/jwks.json"));
    assert!(f.redirects.is_empty());
    assert!(!f.from_cache);
    assert_eq!(f.cache_age_secs, None);
    // No Cache-Control: not stored, so not served from the cache next time.
    assert_eq!(f.max_age_secs, None);
    assert!(f.is_fresh());
}

#[tokio::test]
async fn async_version_and_user_agent() {
    let s = serve(|_, head: &str| {
        let body = head.as_bytes().to_vec();
        vec![Step::Write(http("200 OK", &[], &body))]
    });
    let f = get_async(&s.url("/ua"), &no_cache()).await.expect("fetch");
    let head = String::from_utf8_lossy(&f.body).to_lowercase();
    assert!(head.starts_with("get /ua http/1.1"), "{head}");
    assert!(
        head.contains(&format!("user-agent: {}", USER_AGENT.to_lowercase())),
        "{head}"
    );
}

#[tokio::test]
async fn sync_get_inside_a_runtime_does_not_panic() {
    let s = serve(respond("200 OK", &[], JWKS));
    let f = get(&s.url("/"), &no_cache()).expect("fetch");
    assert_eq!(f.body, JWKS);
}

#[test]
fn status_404_is_data_not_error() {
    let s = serve(respond(
        "404 Not Found",
        &[("Content-Type", "text/plain")],
        b"no such tenant",
    ));
    let f = get(&s.url("/missing"), &no_cache()).expect("404 is returned");
    assert_eq!(f.status, 404);
    assert_eq!(f.body, b"no such tenant");
}

#[test]
fn status_500_is_data_not_error() {
    let s = serve(respond("500 Internal Server Error", &[], b"boom"));
    let f = get(&s.url("/"), &no_cache()).expect("500 is returned");
    assert_eq!(f.status, 500);
    assert_eq!(f.body, b"boom");
}

#[test]
fn html_body_is_returned_with_its_content_type() {
    let html = b"<!DOCTYPE html>\n<html><body>\n  <h1>Login</h1>\n</body></html>";
    let s = serve(respond(
        "200 OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        html,
    ));
    let f = get(&s.url("/"), &no_cache()).expect("fetch");
    assert_eq!(f.content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(
        excerpt(&f.body, 200),
        "<!DOCTYPE html> <html><body> <h1>Login</h1> </body></html>"
    );
}

// ---------------------------------------------------------------- faults

#[test]
fn slow_response_times_out() {
    let s = serve(|_, _| {
        vec![
            Step::Sleep(Duration::from_secs(3)),
            Step::Write(http("200 OK", &[], JWKS)),
        ]
    });
    let opts = FetchOptions {
        timeout: Duration::from_secs(1),
        ..no_cache()
    };
    let started = Instant::now();
    let err = get(&s.url("/"), &opts).expect_err("must time out");
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(
        err,
        FetchError::Timeout {
            after_secs: 1.0,
            phase: "response"
        }
    );
    assert_eq!(err.kind(), "timeout");
    assert_eq!(
        err.to_string(),
        "timed out after 1s waiting for the response (server slow or unreachable?)"
    );
}

#[test]
fn stalled_body_times_out_in_body_phase() {
    let s = serve(|_, _| {
        vec![
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"keys\":".to_vec()),
            Step::Sleep(Duration::from_secs(3)),
        ]
    });
    let opts = FetchOptions {
        timeout: Duration::from_secs(1),
        ..no_cache()
    };
    let err = get(&s.url("/"), &opts).expect_err("must time out");
    assert_eq!(
        err,
        FetchError::Timeout {
            after_secs: 1.0,
            phase: "body"
        }
    );
}

#[test]
fn connection_closed_mid_body_is_interrupted() {
    let s = serve(|_, _| {
        vec![Step::Write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"keys\":[".to_vec(),
        )]
    });
    let err = get(&s.url("/"), &no_cache()).expect_err("must fail");
    assert_eq!(err.kind(), "interrupted", "{err:?}");
    assert_eq!(
        err.to_string(),
        "connection closed before the response was complete \
         (while reading the body: end of file before message length reached)"
    );
}

#[test]
fn connection_closed_before_headers_is_interrupted() {
    let s = serve(|_, _| vec![]);
    let err = get(&s.url("/"), &no_cache()).expect_err("must fail");
    assert_eq!(err.kind(), "interrupted", "{err:?}");
}

#[test]
fn oversize_body_with_content_length_is_too_large() {
    let body = vec![b'a'; 2 * 1024 * 1024];
    let s = serve(move |_, _| vec![Step::Write(http("200 OK", &[], &body))]);
    let err = get(&s.url("/"), &no_cache()).expect_err("must fail");
    assert_eq!(err, FetchError::TooLarge { limit: 1024 * 1024 });
    assert_eq!(err.kind(), "too-large");
}

#[test]
fn oversize_body_without_content_length_is_too_large() {
    // Close-delimited body: only counting the bytes can catch it.
    let s = serve(|_, _| {
        let mut out = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        out.extend(vec![b'a'; 2 * 1024 * 1024]);
        vec![Step::Write(out)]
    });
    let err = get(&s.url("/"), &no_cache()).expect_err("must fail");
    assert_eq!(err, FetchError::TooLarge { limit: 1024 * 1024 });
}

#[test]
fn lying_small_content_length_is_not_trusted() {
    // Content-Length says 10; the client must not read past it nor accept more.
    let s = serve(|_, _| {
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".to_vec();
        out.extend(vec![b'a'; 64 * 1024]);
        vec![Step::Write(out)]
    });
    let f = get(&s.url("/"), &no_cache()).expect("fetch");
    assert_eq!(f.body.len(), 10);
}

#[test]
fn redirect_is_followed_and_recorded() {
    let s = serve(|path, _| match path {
        "/old" => vec![Step::Write(http(
            "302 Found",
            &[("Location", "/middle")],
            b"",
        ))],
        "/middle" => vec![Step::Write(http(
            "301 Moved Permanently",
            &[("Location", "/new?x=1")],
            b"",
        ))],
        _ => vec![Step::Write(http("200 OK", &[], JWKS))],
    });
    let f = get(&s.url("/old"), &no_cache()).expect("fetch");
    assert_eq!(f.status, 200);
    assert_eq!(f.body, JWKS);
    assert_eq!(f.url, s.url("/new?x=1"));
    assert_eq!(f.redirects, vec![s.url("/old"), s.url("/middle")]);
}

#[test]
fn redirect_loop_is_too_many_redirects() {
    let s = serve(|_, _| {
        vec![Step::Write(http(
            "302 Found",
            &[("Location", "/loop")],
            b"",
        ))]
    });
    let err = get(&s.url("/loop"), &no_cache()).expect_err("must fail");
    assert_eq!(err, FetchError::TooManyRedirects { count: 5 });
    assert_eq!(err.kind(), "too-many-redirects");
    assert_eq!(s.hits(), 6);
}

#[test]
fn redirect_to_unsupported_scheme_is_invalid_url() {
    let s = serve(|_, _| {
        vec![Step::Write(http(
            "302 Found",
            &[("Location", "ftp://example.com/jwks")],
            b"",
        ))]
    });
    let err = get(&s.url("/"), &no_cache()).expect_err("must fail");
    assert_eq!(err.kind(), "invalid-url");
}

#[test]
fn connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = get(&format!("http://127.0.0.1:{port}/jwks"), &no_cache()).expect_err("refused");
    assert_eq!(
        err,
        FetchError::Refused {
            addr: format!("127.0.0.1:{port}")
        }
    );
    assert_eq!(err.kind(), "refused");
    assert_eq!(
        err.to_string(),
        format!(
            "connection refused by 127.0.0.1:{port} (is the server running? is the port right?)"
        )
    );
}

#[test]
fn https_to_a_plain_http_server_is_tls_error() {
    let s = serve(respond("400 Bad Request", &[], b"plain http"));
    let url = s.url("/").replacen("http://", "https://", 1);
    let err = get(&url, &no_cache()).expect_err("must fail");
    assert_eq!(err.kind(), "tls", "{err:?}");
    assert!(
        err.to_string().starts_with("TLS handshake failed: "),
        "{err}"
    );
    assert!(err.to_string().contains("did not answer with TLS"), "{err}");
}

/// rustls prints debug names (`invalid peer certificate:
/// Other(OtherError(CaUsedAsEndEntity))`): each is a sentence, and an
/// untrusted issuer says how to trust a private CA.
#[test]
fn tls_failures_are_sentences_not_debug_names() {
    #[derive(Debug)]
    struct Named(&'static str);
    impl std::fmt::Display for Named {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Named {}
    let webpki = |name: &'static str| {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
            Arc::new(Named(name)),
        )))
    };
    let ca_as_leaf = tls_text(&webpki("CaUsedAsEndEntity"));
    assert!(
        ca_as_leaf.contains("presents a CA certificate as its own"),
        "{ca_as_leaf}"
    );
    assert!(ca_as_leaf.contains("SSL_CERT_FILE="), "{ca_as_leaf}");
    let unknown = tls_text(&rustls::Error::InvalidCertificate(
        rustls::CertificateError::UnknownIssuer,
    ));
    assert!(unknown.contains("does not trust"), "{unknown}");
    assert!(unknown.contains("SSL_CERT_FILE="), "{unknown}");
    let expired = tls_text(&rustls::Error::InvalidCertificate(
        rustls::CertificateError::Expired,
    ));
    assert!(expired.contains("has expired"), "{expired}");
    for text in [&ca_as_leaf, &unknown, &expired] {
        assert!(
            !text.contains("Other(") && !text.contains("OtherError"),
            "{text}"
        );
    }
}

#[test]
fn invalid_urls() {
    for url in [
        "ftp://example.com/jwks",
        "file:///etc/passwd",
        "not a url",
        "",
        "http://",
        "example.com/jwks",
    ] {
        let err = get(url, &no_cache()).expect_err(url);
        assert_eq!(err.kind(), "invalid-url", "{url}: {err:?}");
        assert!(err.to_string().starts_with("invalid URL: "), "{err}");
    }
}

#[test]
fn error_kinds_and_messages_are_one_line() {
    let errors = [
        FetchError::InvalidUrl("x".into()),
        FetchError::Dns {
            host: "h".into(),
            message: "m".into(),
        },
        FetchError::Refused { addr: "a".into() },
        FetchError::Tls {
            message: "m".into(),
        },
        FetchError::Timeout {
            after_secs: 10.0,
            phase: "connect",
        },
        FetchError::TooManyRedirects { count: 5 },
        FetchError::TooLarge { limit: 1 },
        FetchError::Interrupted {
            message: "m".into(),
        },
        FetchError::Other {
            message: "m".into(),
        },
    ];
    let kinds: Vec<_> = errors.iter().map(FetchError::kind).collect();
    assert_eq!(
        kinds,
        [
            "invalid-url",
            "dns",
            "refused",
            "tls",
            "timeout",
            "too-many-redirects",
            "too-large",
            "interrupted",
            "other"
        ]
    );
    for e in &errors {
        assert!(!e.to_string().contains('\n'));
    }
    assert_eq!(
        errors[4].to_string(),
        "timed out after 10s while connecting (server slow or unreachable?)"
    );
}

// ---------------------------------------------------------------- cache

#[test]
fn second_get_is_served_from_cache_with_max_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Cache-Control", "public, max-age=60"),
        ],
        JWKS,
    ));
    let url = s.url("/jwks");
    let opts = with_cache(dir.path());
    let first = get(&url, &opts).expect("first");
    assert!(!first.from_cache);
    assert_eq!(first.max_age_secs, Some(60));
    let second = get(&url, &opts).expect("second");
    assert_eq!(s.hits(), 1);
    assert!(second.from_cache);
    assert!(second.is_fresh());
    assert_eq!(second.max_age_secs, Some(60));
    assert!(second.cache_age_secs.is_some_and(|a| a <= 2));
    assert_eq!(second.body, JWKS);
    assert_eq!(second.status, 200);
    assert_eq!(second.content_type.as_deref(), Some("application/json"));
    assert_eq!(second.url, url);
}

#[test]
fn max_age_zero_is_stale_and_refetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond("200 OK", &[("Cache-Control", "max-age=0")], JWKS));
    let url = s.url("/jwks");
    let opts = with_cache(dir.path());
    get(&url, &opts).expect("first");
    std::thread::sleep(Duration::from_millis(1100));
    let stale = cached(&url, &opts).expect("entry exists");
    assert!(stale.from_cache);
    assert!(!stale.is_fresh());
    let second = get(&url, &opts).expect("second");
    assert!(!second.from_cache);
    assert_eq!(s.hits(), 2);
}

#[test]
fn max_age_is_capped_at_one_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond(
        "200 OK",
        &[("Cache-Control", "max-age=31536000")],
        JWKS,
    ));
    let opts = with_cache(dir.path());
    let f = get(&s.url("/"), &opts).expect("fetch");
    assert_eq!(f.max_age_secs, Some(86_400));
    let hit = cached(&s.url("/"), &opts).expect("cached");
    assert_eq!(hit.max_age_secs, Some(86_400));
}

#[test]
fn stale_entry_is_returned_by_cached_with_its_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "https://issuer.example/jwks";
    let entry = serde_json::json!({
        "url": url, "fetched_at": cache::now_secs() - 1000, "max_age": 300,
        "status": 200, "content_type": "application/json", "body": "{\"keys\":[]}",
    });
    std::fs::write(
        dir.path().join(format!("{}.json", cache::key(url))),
        entry.to_string(),
    )
    .expect("write");
    let hit = cached(url, &with_cache(dir.path())).expect("entry");
    assert!(hit.from_cache);
    assert!(!hit.is_fresh());
    assert!(
        hit.cache_age_secs
            .is_some_and(|a| (1000..1010).contains(&a))
    );
    assert_eq!(hit.body, b"{\"keys\":[]}");
}

#[test]
fn use_cache_false_bypasses_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond("200 OK", &[("Cache-Control", "max-age=600")], JWKS));
    let opts = FetchOptions {
        use_cache: false,
        ..with_cache(dir.path())
    };
    get(&s.url("/"), &opts).expect("first");
    let second = get(&s.url("/"), &opts).expect("second");
    assert!(!second.from_cache);
    assert_eq!(s.hits(), 2);
    assert_eq!(cache_files(dir.path()), 0);
    assert!(cached(&s.url("/"), &opts).is_none());
}

#[test]
fn no_store_is_not_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond(
        "200 OK",
        &[("Cache-Control", "max-age=600, no-store")],
        JWKS,
    ));
    let opts = with_cache(dir.path());
    let first = get(&s.url("/"), &opts).expect("first");
    assert_eq!(first.max_age_secs, None);
    let second = get(&s.url("/"), &opts).expect("second");
    assert!(!second.from_cache);
    assert_eq!(s.hits(), 2);
    assert_eq!(cache_files(dir.path()), 0);
}

#[test]
fn error_statuses_are_not_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond(
        "404 Not Found",
        &[("Cache-Control", "max-age=600")],
        b"nope",
    ));
    let opts = with_cache(dir.path());
    get(&s.url("/"), &opts).expect("first");
    get(&s.url("/"), &opts).expect("second");
    assert_eq!(s.hits(), 2);
    assert_eq!(cache_files(dir.path()), 0);
}

#[test]
fn get_fresh_skips_the_read_but_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    let s = serve(move |_, _| {
        let i = counter.fetch_add(1, Ordering::SeqCst);
        let body = format!("{{\"version\":{i}}}").into_bytes();
        vec![Step::Write(http(
            "200 OK",
            &[("Cache-Control", "max-age=600")],
            &body,
        ))]
    });
    let opts = with_cache(dir.path());
    assert_eq!(
        get(&s.url("/"), &opts).expect("first").body,
        b"{\"version\":0}"
    );
    let fresh = get_fresh(&s.url("/"), &opts).expect("fresh");
    assert!(!fresh.from_cache);
    assert_eq!(fresh.body, b"{\"version\":1}");
    let hit = get(&s.url("/"), &opts).expect("cached");
    assert!(hit.from_cache);
    assert_eq!(hit.body, b"{\"version\":1}");
    assert_eq!(s.hits(), 2);
}

#[test]
fn redirected_response_is_cached_under_the_requested_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(|path, _| match path {
        "/a" => vec![Step::Write(http(
            "307 Temporary Redirect",
            &[("Location", "/b")],
            b"",
        ))],
        _ => vec![Step::Write(http(
            "200 OK",
            &[("Cache-Control", "max-age=60")],
            JWKS,
        ))],
    });
    let opts = with_cache(dir.path());
    get(&s.url("/a"), &opts).expect("first");
    let hit = get(&s.url("/a"), &opts).expect("second");
    assert!(hit.from_cache);
    assert_eq!(hit.url, s.url("/b"));
    assert_eq!(hit.redirects, vec![s.url("/a")]);
    assert_eq!(s.hits(), 2);
}

#[test]
fn a_response_not_marked_cacheable_is_fetched_again_next_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond("200 OK", &[], JWKS));
    let opts = with_cache(dir.path());
    let first = get(&s.url("/"), &opts).expect("first");
    let second = get(&s.url("/"), &opts).expect("second");
    assert!(!first.from_cache && !second.from_cache);
    assert_eq!(s.hits(), 2);
    assert!(cached(&s.url("/"), &opts).is_none());
}

#[test]
fn corrupt_cache_file_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond("200 OK", &[("Cache-Control", "max-age=60")], JWKS));
    let url = s.url("/");
    std::fs::write(
        dir.path().join(format!("{}.json", cache::key(&url))),
        b"{not json",
    )
    .expect("write");
    let f = get(&url, &with_cache(dir.path())).expect("fetch");
    assert!(!f.from_cache);
    assert_eq!(s.hits(), 1);
    // ...and replaced by a good entry.
    assert!(cached(&url, &with_cache(dir.path())).is_some());
}

#[test]
fn unwritable_cache_dir_does_not_fail_the_fetch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve(respond("200 OK", &[], JWKS));

    // A cache "directory" that is a regular file: fails even for root.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let f = get(&s.url("/"), &with_cache(&file.join("jwks"))).expect("fetch");
    assert_eq!(f.body, JWKS);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).expect("mkdir");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        let f = get(&s.url("/"), &with_cache(&ro)).expect("fetch");
        assert_eq!(f.body, JWKS);
        assert!(!f.from_cache);
        let _ = std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700));
    }
}

#[cfg(unix)]
#[test]
fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("jwtai").join("jwks");
    let s = serve(respond("200 OK", &[("Cache-Control", "max-age=60")], JWKS));
    get(&s.url("/"), &with_cache(&cache_dir)).expect("fetch");
    let dir_mode = std::fs::metadata(&cache_dir)
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let file = cache_dir.join(format!("{}.json", cache::key(&s.url("/"))));
    let file_mode = std::fs::metadata(&file).expect("file").permissions().mode();
    assert_eq!(file_mode & 0o777, 0o600);
    let entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
    for field in [
        "url",
        "fetched_at",
        "max_age",
        "status",
        "content_type",
        "body",
    ] {
        assert!(entry.get(field).is_some(), "{field}");
    }
    // No stray temporary files.
    assert_eq!(cache_files(&cache_dir), 1);
}

#[test]
fn spinner_enabled_does_not_break_the_fetch() {
    let s = serve(respond("200 OK", &[], JWKS));
    let opts = FetchOptions {
        spinner: true,
        ..no_cache()
    };
    assert_eq!(get(&s.url("/"), &opts).expect("fetch").body, JWKS);
}

// ---------------------------------------------------------------- helpers

#[test]
fn discovery_url_strips_trailing_slashes() {
    assert_eq!(
        discovery_url("https://login.example.com/tenant/"),
        "https://login.example.com/tenant/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://accounts.example.com"),
        "https://accounts.example.com/.well-known/openid-configuration"
    );
}

const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[test]
fn excerpt_redacts_a_jwt() {
    let body = format!("{{\"error\":\"invalid\",\"token\":\"{JWT}\"}}");
    let e = excerpt(body.as_bytes(), 200);
    assert_eq!(e, "{\"error\":\"invalid\",\"token\":\"«redacted»\"}");
    let e = excerpt(
        format!("Authorization: Bearer {JWT} rejected").as_bytes(),
        200,
    );
    assert_eq!(e, "Authorization: Bearer «redacted» rejected");
    let e = excerpt(format!("?access_token={JWT}&x=1").as_bytes(), 200);
    assert_eq!(e, "?access_token=«redacted»&x=1");
}

#[test]
fn excerpt_redacts_long_high_entropy_strings_only() {
    let e = excerpt(b"client_secret=Zk3q9XbT7mLw2PaR8sYd4NcV6hJe1GuK0oFi", 200);
    assert_eq!(e, "client_secret=«redacted»");
    let hex = b"sha: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_eq!(excerpt(hex, 200), "sha: «redacted»");
    // Long but low-entropy or single-class words stay.
    let plain = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa this_is_a_rather_long_identifier_name";
    assert_eq!(excerpt(plain, 200), String::from_utf8_lossy(plain));
    assert_eq!(excerpt(b"short Abc123", 200), "short Abc123");
}

#[test]
fn excerpt_redacts_secret_members_by_name_whatever_their_length() {
    let jwk = br#"{"kty":"oct","kid":"hs","k":"c2VjcmV0LWtleS0xMjM0"}"#;
    assert_eq!(
        excerpt(jwk, 200),
        r#"{"kty":"oct","kid":"hs","k":"«redacted»"}"#
    );
    let rsa = br#"{"kty":"RSA","n":"0vx7","e":"AQAB","d":"X4cT","p":"83i","dq":"s9l"}"#;
    assert_eq!(
        excerpt(rsa, 200),
        r#"{"kty":"RSA","n":"0vx7","e":"AQAB","d":"«redacted»","p":"«redacted»","dq":"«redacted»"}"#
    );
    let creds = br#"{"password":"hunter2","api_key":"abc123","client_secret": "s3"}"#;
    assert_eq!(
        excerpt(creds, 200),
        r#"{"password":"«redacted»","api_key":"«redacted»","client_secret": "«redacted»"}"#
    );
    // Cut mid-value by the body limit, still masked.
    assert_eq!(
        excerpt(br#"{"kty":"oct","k":"aHVudGVy"#, 200),
        r#"{"kty":"oct","k":"«redacted»""#
    );
    assert_eq!(
        excerpt(b"error: bad request password=hunter2&user=bob", 200),
        // The user name too, as in any free text.
        "error: bad request password=«redacted»&user=«masked:personal»"
    );
    // A discovery document's endpoints are no secret.
    let disco =
        br#"{"token_endpoint":"https://a.example/token","jwks_uri":"https://a.example/keys"}"#;
    assert_eq!(excerpt(disco, 200), String::from_utf8_lossy(disco));
    // Public members and ordinary words stay.
    let public = br#"{"keys":[{"kty":"EC","kid":"k1","x":"f83O","y":"x_FE","crv":"P-256"}]}"#;
    assert_eq!(excerpt(public, 200), String::from_utf8_lossy(public));
}

#[test]
fn excerpt_is_single_line_printable_and_bounded() {
    let e = excerpt(
        b"line one\r\n\tline\x00two\x1b[31m  red \xff\xfe \xe2\x80\xae end",
        200,
    );
    assert!(!e.chars().any(|c| c.is_control()));
    assert!(!e.contains('\u{202E}'));
    assert_eq!(e, "line one line two [31m red \u{FFFD}\u{FFFD} end");
    let long = "word ".repeat(100);
    let cut = excerpt(long.as_bytes(), 20);
    assert_eq!(cut.chars().count(), 20);
    assert!(cut.ends_with('…'));
    assert_eq!(excerpt(b"abc", 0), "");
    assert_eq!(excerpt(b"", 10), "");
}

#[test]
fn excerpt_masks_what_free_text_masks() {
    // An HTML error page from a misconfigured endpoint: shown in local
    // output too, not only sent to a model.
    let body = b"<html><body><p>AKIAIOSFODNN7EXAMPLE</p> api_key: HtmlApiKey999 <saml:NameID>gina.saml@example.org</saml:NameID></body></html>";
    let e = excerpt(body, 300);
    for leak in ["AKIAIOSFODNN7EXAMPLE", "HtmlApiKey999", "gina.saml"] {
        assert!(!e.contains(leak), "{leak} in {e}");
    }
    assert!(
        e.contains("api_key: «masked:secret» <saml:NameID>«masked:email»</saml:NameID>"),
        "{e}"
    );
}
