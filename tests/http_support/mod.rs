//! A scripted HTTP/1.1 server for the network tests, on `std::net` only.
//!
//! It listens on 127.0.0.1:0, answers each path with a [`Reply`] that the test
//! can swap between requests (key rotation), and records every request it
//! received (path and headers) so tests assert on what jwtai actually sent.
//! A reply can be delayed, cut off mid-body, or sent without a length
//! (close-delimited). One connection carries one request (`Connection: close`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// `Content-Length` and the whole body.
    Full,
    /// `Content-Length` of the whole body, but only this many bytes are sent
    /// before the connection is closed.
    CutAfter(usize),
    /// No `Content-Length`: the body ends when the connection closes.
    UntilClose,
    /// Nothing at all: the connection is closed once the request is read.
    Close,
    /// `Content-Length` of the whole body; this many bytes are sent, then the
    /// server stalls for the duration before sending the rest.
    StallAfter(usize, Duration),
}

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep before sending anything (status line included).
    pub delay: Duration,
    pub mode: BodyMode,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            mode: BodyMode::Full,
        }
    }

    /// A 200 `application/json` reply.
    pub fn json(body: &serde_json::Value) -> Reply {
        Reply::new(200, "application/json", body.to_string())
    }

    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::new(302, "text/plain", "moved").header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn mode(mut self, mode: BodyMode) -> Reply {
        self.mode = mode;
        self
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Reply>,
    requests: Vec<Request>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking connection thread must not poison every later assertion.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running server; stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = Arc::clone(&st);
                thread::spawn(move || serve(conn, &st));
            }
        });
        Server { addr, state, stop }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Sets (or replaces) the reply for `path`; unknown paths get a 404.
    pub fn route(&self, path: &str, reply: Reply) {
        lock(&self.state).routes.insert(path.to_string(), reply);
    }

    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state).requests.clone()
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    port
}

fn read_head(conn: &mut TcpStream) -> Option<String> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Request {
        method,
        path,
        headers,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn serve(mut conn: TcpStream, state: &Mutex<State>) {
    let Some(request) = read_head(&mut conn).as_deref().and_then(parse_request) else {
        return;
    };
    let reply = {
        let mut st = lock(state);
        let reply = st.routes.get(&request.path).cloned();
        st.requests.push(request);
        reply.unwrap_or_else(|| Reply::new(404, "text/plain", "no such path"))
    };
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    if reply.mode == BodyMode::Close {
        return;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.mode != BodyMode::UntilClose {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let body = match reply.mode {
        BodyMode::CutAfter(n) => &reply.body[..n.min(reply.body.len())],
        BodyMode::Full | BodyMode::UntilClose | BodyMode::StallAfter(..) | BodyMode::Close => {
            &reply.body[..]
        }
    };
    // The client may have given up (timeout, too large): write errors are expected.
    let _ = conn.write_all(head.as_bytes());
    if let BodyMode::StallAfter(n, stall) = reply.mode {
        let n = n.min(body.len());
        let _ = conn.write_all(&body[..n]);
        let _ = conn.flush();
        thread::sleep(stall);
        let _ = conn.write_all(&body[n..]);
    } else {
        let _ = conn.write_all(body);
    }
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Both);
}
