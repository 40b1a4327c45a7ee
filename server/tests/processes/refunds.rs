//! Refunds against a real server process: through the admin HTTP api, and through the seller's
//! command line, which works on the database and calls the vault's internal listener itself.
//! The refund receipts come out of the running server's outbox.

use crate::harness::pg_url;
use crate::process::{checkout, order, server_bin, Launch, ServerProcess, VAULT_API_KEY};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const ADMIN_KEY: &str = "process-test-admin-key-0123456789abcdef";

/// The tee, size M, shipped to New York: 30.00 + 5.00 shipping + 2.66 tax.
const TEE_TOTAL: i64 = 3766;

fn tee() -> Value {
    json!({
        "product_id": "red-tee", "variant_id": "m", "quantity": 1, "email": "jane@example.com",
        "shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
                     "postal_code": "10001", "country": "US"}
    })
}

/// Runs `tweetbuy-server orders ARGS` against the server's data, with the vault settings the
/// seller gives it when `vault` is set.
fn cli(dir: &Path, url: Option<&str>, prefix: &str, vault: Option<&str>, args: &[&str]) -> Output {
    cli_with(dir, url, prefix, vault, args, |_| {})
}

/// [`cli`], with `set` changing the command first (its standard output).
fn cli_with(
    dir: &Path,
    url: Option<&str>,
    prefix: &str,
    vault: Option<&str>,
    args: &[&str],
    set: impl FnOnce(&mut std::process::Command),
) -> Output {
    let mut command = std::process::Command::new(server_bin());
    command
        .arg("orders")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWEETBUY_DATA_DIR", dir)
        .env("TWEETBUY_DB_SCHEMA_PREFIX", prefix);
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    if let Some(vault) = vault {
        command.env("TWEETBUY_VAULT_INTERNAL_URL", vault).env("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY);
    }
    set(&mut command);
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn wait_for(path: &Path, server: &ServerProcess) -> String {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {}; log:\n{}", path.display(), server.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_through_the_admin_api_and_the_command_line() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("f");
    let server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: url.as_deref(),
        schema_prefix: &prefix,
        env: vec![("TWEETBUY_ADMIN_KEY", ADMIN_KEY.to_owned())],
        log_name: "refunds",
    });
    let http = reqwest::Client::new();
    let mut numbers = Vec::new();
    for i in 0..2 {
        let body = checkout(&http, &server.api, &server.vault, &tee(), "4242424242424242").await;
        let (status, receipt) = order(&http, &server.api, &body, &format!("refund-order-{i}")).await;
        assert_eq!(status, 201, "{receipt}");
        numbers.push(receipt["order_number"].as_str().unwrap().to_owned());
    }
    let (by_api, by_cli) = (&numbers[0], &numbers[1]);

    // The admin api: a partial refund, replayed under its key, then shipping.
    let admin = |path: String| http.post(format!("{}{path}", server.api)).bearer_auth(ADMIN_KEY);
    let refund = || {
        admin(format!("/admin/v1/orders/{by_api}/refunds"))
            .header("Idempotency-Key", "api-refund-1")
            .json(&json!({"amount_minor": 1000}))
    };
    let reply = refund().send().await.unwrap();
    assert_eq!(reply.status(), 201);
    let first: Value = reply.json().await.unwrap();
    assert_eq!((first["amount_minor"].as_i64(), first["status"].as_str()), (Some(1000), Some("succeeded")));
    let reply = refund().send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["idempotent-replayed"], "true");
    assert_eq!(reply.json::<Value>().await.unwrap()["refund_id"], first["refund_id"]);
    let over = admin(format!("/admin/v1/orders/{by_api}/refunds"))
        .header("Idempotency-Key", "api-refund-2")
        .json(&json!({"amount_minor": TEE_TOTAL}))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 409);
    assert_eq!(over.json::<Value>().await.unwrap()["code"], "refund_exceeds_remaining");
    assert_eq!(admin(format!("/admin/v1/orders/{by_api}/ship")).send().await.unwrap().status(), 200);
    let cancelled = admin(format!("/admin/v1/orders/{by_api}/cancel")).send().await.unwrap();
    assert_eq!(cancelled.status(), 409);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["code"], "order_shipped");

    // The command line: refused without the vault's settings, then a refund, its repeat, and
    // a cancellation of the rest.
    let missing = stderr(&cli(dir.path(), url.as_deref(), &prefix, None, &["refund", by_cli, "--amount-minor", "500"]));
    assert!(missing.contains("TWEETBUY_VAULT_API_KEY"), "{missing}");
    let vault = Some(server.vault_internal.as_str());
    let args = ["refund", by_cli.as_str(), "--amount-minor", "500", "--key", "cli-refund-1"];
    let made = stdout(&cli(dir.path(), url.as_deref(), &prefix, vault, &args));
    assert!(made.contains(&format!("refunded {by_cli}: refund 1 of 500 USD")), "{made}");
    let repeated = stdout(&cli(dir.path(), url.as_deref(), &prefix, vault, &args));
    assert!(repeated.contains("already done"), "{repeated}");
    let over = stderr(&cli(dir.path(), url.as_deref(), &prefix, vault, &["refund", by_cli, "--amount-minor", "9999"]));
    assert!(over.contains("Only $32.66"), "{over}");
    // A refund whose report meets a closed pipe (`| head`, `| :`): made, and said so, with
    // its key, on standard error; no panic.
    let args = ["refund", by_cli.as_str(), "--amount-minor", "100", "--key", "cli-refund-2"];
    let piped = cli_with(dir.path(), url.as_deref(), &prefix, vault, &args, |command| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        command.stdout(writer);
    });
    assert_eq!(piped.status.code(), Some(1), "{piped:?}");
    let said = String::from_utf8_lossy(&piped.stderr);
    assert!(said.contains(&format!("refunded {by_cli}")) && said.contains("--key cli-refund-2"), "{said}");
    assert!(said.contains("could not be written") && !said.contains("panicked"), "{said}");
    // Asked again, with the order's number typed in lower case.
    let typed = by_cli.to_ascii_lowercase();
    let args = ["refund", typed.as_str(), "--amount-minor", "100", "--key", "cli-refund-2"];
    let repeated = stdout(&cli(dir.path(), url.as_deref(), &prefix, vault, &args));
    assert!(repeated.contains("refund 2 of 100 USD") && repeated.contains("already done"), "{repeated}");
    let cancelled = stdout(&cli(dir.path(), url.as_deref(), &prefix, vault, &["cancel", by_cli]));
    assert!(cancelled.contains(&format!("cancelled {by_cli}: refund 3 of {} USD", TEE_TOTAL - 600)), "{cancelled}");
    let shipped = stderr(&cli(dir.path(), url.as_deref(), &prefix, None, &["ship", by_cli]));
    assert!(shipped.contains("cancelled"), "{shipped}");

    // The seller's view, from either side.
    let list = stdout(&cli(dir.path(), url.as_deref(), &prefix, None, &["list"]));
    assert!(list.contains(&format!("{by_cli}  cancelled")), "{list}");
    assert!(list.contains(&format!("{by_api}  partially_refunded")) && list.contains("refunded 1000 USD"), "{list}");
    let orders: Value = http
        .get(format!("{}/admin/v1/orders", server.api))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let view = |number: &str| orders.as_array().unwrap().iter().find(|o| o["order_number"] == number).unwrap().clone();
    assert_eq!(view(by_cli)["refunded_minor"], TEE_TOTAL);
    assert_eq!(view(by_api)["refunded_minor"], 1000);

    // The running server mails a receipt per refund, the command line's included.
    let outbox = dir.path().join("outbox");
    for (number, n, says) in [
        (by_api, 1, "Refunded now: $10.00"),
        (by_cli, 1, "Refunded now: $5.00"),
        (by_cli, 2, "Refunded now: $1.00"),
        (by_cli, 3, "has been cancelled"),
    ] {
        let text = wait_for(&outbox.join(format!("{number}-refund-{n}.eml")), &server).await;
        assert!(text.contains(says) && text.contains("To: jane@example.com"), "{text}");
    }
    assert!(server.log_text().contains("refund succeeded"), "the api's refund is logged");
}
