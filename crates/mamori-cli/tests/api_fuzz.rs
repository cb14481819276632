//! schemathesis (PyPI) against the REST API of a real `mamori serve` on a loopback port, with
//! a token of an operator of the demo hospital: every operation the OpenAPI document lists,
//! with generated and stateful requests, must never give a server error. Needs `st`
//! (.ci/run installs schemathesis); without it the test says why it skips, and fails under
//! `CI=true`.

mod support;

use std::process::{Command, Stdio};

use support::Env;

#[test]
fn schemathesis_finds_no_server_error() {
    let st = Command::new("st").arg("--version").output();
    if !support::require(
        "schemathesis (`st`; pip install schemathesis)",
        st.is_ok_and(|o| o.status.success()),
    ) {
        return;
    }
    let env = Env::empty();
    let dir = env.path("demo");
    let d = dir.to_str().unwrap();
    assert_eq!(env.run(&["demo", "--no-serve", "--dir", d]).code, 0);
    let pw = env.path("pw");
    std::fs::write(&pw, "schemathesis-password-1\n").unwrap();
    assert_eq!(
        env.run_in(
            &dir,
            &[
                "user",
                "add",
                "stbot",
                "--role",
                "operator",
                "--new-password-file",
                pw.to_str().unwrap()
            ]
        )
        .code,
        0
    );
    let token = env.run_in(
        &dir,
        &[
            "--json",
            "token",
            "create",
            "schemathesis",
            "--for",
            "stbot",
        ],
    );
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.json()["token"].as_str().unwrap().to_string();

    let port = support::free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "--data-dir",
            d,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("USER", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    support::wait_listening(&mut server, port, 20);
    let out = Command::new("st")
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/api/v1/openapi.json"),
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "50",
            "--seed",
            "2026",
        ])
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .current_dir(env.path(""))
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Tested: 12"),
        "every operation is tested: {text}"
    );
    assert!(!text.contains("failed"), "{text}");
}
