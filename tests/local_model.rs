//! End to end against the real local model (`scripts/local-model.sh`:
//! llama-cpp-python's OpenAI-compatible server with SmolLM2-135M), run by
//! `.ci/run`, which starts the server and sets `JWTAI_LOCAL_MODEL_BASE`.
//!
//! Only the plumbing is asserted here: the answer arrives, is merged, and the
//! exit status follows the findings. What the answer says is asserted against
//! the recording server (`explain.rs`, `interactive.rs`), not a 135M model.
//!
//! Run: `JWTAI_LOCAL_MODEL_BASE=http://127.0.0.1:8080/v1 cargo test --test local_model -- --ignored`

mod openai_support;

use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use openai_support::*;
use rexpect::process::WaitStatus;

const LOCAL_MODEL: &str = "smollm2";

/// llama-cpp-python's server answers one request at a time; concurrent
/// streams come back empty. The tests take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The endpoint, or a panic: these tests must never pass without the server.
fn base() -> String {
    match std::env::var("JWTAI_LOCAL_MODEL_BASE") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!(
            "JWTAI_LOCAL_MODEL_BASE is not set: start the local model (scripts/local-model.sh start 8080) \
             and run JWTAI_LOCAL_MODEL_BASE=http://127.0.0.1:8080/v1 cargo test --test local_model -- --ignored"
        ),
    }
}

impl Workdir {
    fn diagnose(&self, token: &str, extra: &[&str]) -> (i32, String, String) {
        let out = jwtai(&self.cache())
            .arg("diagnose")
            .arg(token)
            .arg("--secret-file")
            .arg(&self.secret)
            .args(["--now", NOW_ARG, "--explain", "--api-base", &base()])
            .args(["--model", LOCAL_MODEL, "--timeout", "120", "--no-cache"])
            .args(extra)
            .timeout(Duration::from_secs(600))
            .output()
            .expect("run jwtai");
        (
            out.status.code().expect("an exit code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
#[ignore = "needs the local model server: run by .ci/run"]
fn local_model_streams_an_explanation_below_the_report() {
    let _turn = turn();
    base(); // panics unless the server is configured
    let fx = Workdir::new();
    let (code, stdout, stderr) = fx.diagnose(&expired_token(), &[]);
    assert!(
        !stderr.contains("--explain failed"),
        "the model call failed: {stderr}"
    );
    assert_eq!(code, 1, "an expired token exits 1\n{stdout}\n{stderr}");
    let heading = "Explanation (model smollm2";
    let at = stdout
        .find(heading)
        .unwrap_or_else(|| panic!("no explanation heading:\n{stdout}"));
    assert!(
        stdout[..at].contains("expired"),
        "the report comes first:\n{stdout}"
    );
    let after = &stdout[at..];
    let body_start = after.find('\n').expect("heading line") + 1;
    let footer = after
        .find("Model's root cause:")
        .or_else(|| after.find("The model named no root-cause finding"))
        .unwrap_or_else(|| panic!("no merge footer:\n{after}"));
    assert!(
        !after[body_start..footer].trim().is_empty(),
        "the streamed answer is empty:\n{after}"
    );
}

#[test]
#[ignore = "needs the local model server: run by .ci/run"]
fn local_model_json_explanation_and_exit_status_follow_the_findings() {
    let _turn = turn();
    base(); // panics unless the server is configured
    let fx = Workdir::new();
    for (token, want) in [(expired_token(), 1), (valid_token(), 0)] {
        let (code, stdout, stderr) = fx.diagnose(&token, &["--format", "json"]);
        assert!(
            !stderr.contains("--explain failed"),
            "the model call failed: {stderr}"
        );
        assert_eq!(code, want, "{stdout}\n{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
        let e = &doc["explanation"];
        assert!(e.is_object(), "no explanation merged: {doc}");
        assert!(
            !e["text"].as_str().unwrap_or("").trim().is_empty(),
            "empty explanation: {e}"
        );
        assert_eq!(e["cached"], false);
        assert!(e["referenced_codes"].is_array() && e["unverified_codes"].is_array());
        assert!(!doc["findings"].as_array().unwrap().is_empty());
    }
}

#[test]
#[ignore = "needs the local model server: run by .ci/run"]
fn local_model_answers_a_follow_up_in_a_terminal() {
    let _turn = turn();
    let base = base();
    let fx = Workdir::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jwtai"));
    hermetic(&mut cmd, &fx.cache());
    cmd.env("TERM", "xterm")
        .arg("diagnose")
        .arg(expired_token())
        .arg("--secret-file")
        .arg(&fx.secret)
        .args(["--now", NOW_ARG, "--explain", "-i", "--api-base", &base])
        .args(["--model", LOCAL_MODEL, "--timeout", "120", "--no-cache"]);
    let mut s = rexpect::session::spawn_command(cmd, Some(300_000)).expect("spawn in a pty");
    let intro = s
        .exp_string("Ctrl-D also quits")
        .unwrap_or_else(|e| panic!("no explanation, no prompt: {e}"));
    assert!(!intro.contains("--explain failed"), "{intro}");
    s.exp_string("\r\x1b[2K? ").expect("the prompt");
    s.send("How do I fix it in one sentence?\r").unwrap();
    s.flush().unwrap();
    s.exp_string("one sentence?\r\n")
        .expect("the question, entered");
    let answer = s
        .exp_string("\r\x1b[2K? ")
        .unwrap_or_else(|e| panic!("no prompt after the answer: {e}"));
    assert!(!answer.contains("the model failed"), "{answer}");
    // Drop the spinner frames and control characters; text must remain.
    let text: String = answer
        .split("\r\x1b[2K")
        .filter(|frame| !frame.contains("asking smollm2"))
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    assert!(!text.trim().is_empty(), "no answer text:\n{answer:?}");
    s.send_control('d').unwrap();
    s.exp_eof().expect("exit");
    match s.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 1, "an expired token exits 1"),
        other => panic!("{other:?}"),
    }
}
