//! What `serve` refuses at start, run as a real process: a master key beside the data (outside
//! demo mode), secrets as command-line values, short bearer keys, plain-http publisher origins.

use crate::process::{free_port, server_bin, Launch, ServerProcess, MASTER_KEY};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LONG_KEY: &str = "0123456789abcdef0123456789abcdef-long-enough";

/// Runs `tweetbuy-server serve ARGS` with only `env` (plus free ports and the data dir) and
/// returns its exit code and output, or `None` when it was still serving after a while
/// (it started; it is killed).
fn run(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Option<(i32, String)> {
    let log = data_dir.join("startup.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut command = Command::new(server_bin());
    command
        .arg("serve")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_DATA_DIR", data_dir)
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status.code().unwrap_or(-1), std::fs::read_to_string(&log).unwrap()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn refused(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    match run(data_dir, args, env) {
        Some((code, output)) => {
            assert_ne!(code, 0, "{output}");
            output
        }
        None => panic!("started with {args:?} {env:?}; it should have refused"),
    }
}

#[test]
fn no_master_key_outside_demo_mode_is_refused_and_demo_mode_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let output = refused(dir.path(), &[], &[]);
    assert!(output.contains("no vault master key") && output.contains("--demo"), "{output}");
    assert!(!dir.path().join("vault-master.key").exists(), "no key was written beside the data");

    let server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: None,
        schema_prefix: "tweetbuy",
        env: vec![("TWEETBUY_MASTER_KEY", String::new()), ("TWEETBUY_DEMO", "1".into())],
        log_name: "demo",
    });
    assert!(dir.path().join("vault-master.key").exists());
    let log = server.log_text();
    assert!(log.contains("demo mode"), "{log}");
}

#[test]
fn a_key_file_inside_the_data_directory_is_refused_and_one_apart_is_used() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let inside = data.join("vault-master.key");
    let output = refused(&data, &["--master-key-file", inside.to_str().unwrap()], &[]);
    assert!(output.contains("inside the data directory"), "{output}");
    let output = refused(&data, &[], &[("TWEETBUY_MASTER_KEY_FILE", inside.to_str().unwrap())]);
    assert!(output.contains("inside the data directory"), "{output}");

    let apart = root.path().join("vault.key");
    let apart_env = [("TWEETBUY_MASTER_KEY_FILE", apart.to_str().unwrap())];
    let output = refused(&data, &[], &apart_env);
    assert!(output.contains("does not exist") && output.contains("keys init"), "{output}");
    assert!(!apart.exists(), "a missing key file is not made afresh outside demo mode");
    let init = Command::new(server_bin()).args(["keys", "init", "--master-key-file"]).arg(&apart).output().unwrap();
    assert!(init.status.success(), "{init:?}");
    let made = std::fs::read_to_string(&apart).unwrap();
    let again = Command::new(server_bin()).args(["keys", "init", "--master-key-file"]).arg(&apart).output().unwrap();
    assert!(!again.status.success(), "keys init never overwrites a key file");
    assert_eq!(std::fs::read_to_string(&apart).unwrap(), made);
    let server = ServerProcess::start(Launch {
        data_dir: &data,
        database_url: None,
        schema_prefix: "tweetbuy",
        env: vec![("TWEETBUY_MASTER_KEY", String::new()), ("TWEETBUY_MASTER_KEY_FILE", apart.display().to_string())],
        log_name: "apart",
    });
    assert_eq!(std::fs::read_to_string(&apart).unwrap(), made, "serve uses the key file as it is");
    assert!(!inside.exists());
    assert!(!server.log_text().contains("demo mode"));
}

#[test]
fn secrets_are_refused_as_command_line_values() {
    let dir = tempfile::tempdir().unwrap();
    let key = [("TWEETBUY_MASTER_KEY", MASTER_KEY)];
    for flag in ["--admin-key", "--vault-api-key", "--master-key"] {
        let output = refused(dir.path(), &[flag, LONG_KEY], &key);
        assert!(output.contains(flag), "{flag}: {output}");
    }
    let output = refused(dir.path(), &["--database-url", "postgres://app:s3cret@127.0.0.1:9/x"], &key);
    assert!(output.contains("DATABASE_URL") && !output.contains("s3cret"), "{output}");
}

#[test]
fn short_bearer_keys_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = ("TWEETBUY_MASTER_KEY", MASTER_KEY);
    let output = refused(dir.path(), &[], &[key, ("TWEETBUY_ADMIN_KEY", "admin-key-for-payments-e2e")]);
    assert!(output.contains("admin key") && output.contains("at least 32"), "{output}");
    let output = refused(dir.path(), &[], &[key, ("TWEETBUY_VAULT_API_KEY", "process-test-vault-key")]);
    assert!(output.contains("vault api key") && output.contains("at least 32"), "{output}");
    let file = dir.path().join("admin.key");
    std::fs::write(&file, "short\n").unwrap();
    let output = refused(dir.path(), &["--admin-key-file", file.to_str().unwrap()], &[key]);
    assert!(output.contains("admin key") && output.contains("5 bytes"), "{output}");

    std::fs::write(&file, format!("{LONG_KEY}\n")).unwrap();
    assert_eq!(run(dir.path(), &["--admin-key-file", file.to_str().unwrap()], &[key]), None, "a long key starts");
}

#[test]
fn plain_http_publisher_origins_are_refused_unless_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let key = ("TWEETBUY_MASTER_KEY", MASTER_KEY);
    let output =
        refused(dir.path(), &[], &[key, ("TWEETBUY_ALLOWED_ORIGINS", "https://ok.example,http://news.example")]);
    assert!(output.contains("http://news.example") && output.contains("https://"), "{output}");
    let allowed = ("TWEETBUY_ALLOWED_ORIGINS", "https://news.example,http://localhost:3000,http://[::1]:8080");
    assert_eq!(run(dir.path(), &[], &[key, allowed]), None, "https and loopback start");
}
