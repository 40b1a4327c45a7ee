//! Slow and greedy clients against a real process over real TCP: a request head or body
//! trickled in a byte a second is cut off within seconds, connections beyond the limit wait,
//! and meanwhile other clients' orders go through.

use crate::process::{checkout, order, Launch, ServerProcess};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn start(dir: &std::path::Path, extra: Vec<(&'static str, String)>) -> ServerProcess {
    let mut env = vec![
        ("TWEETBUY_HEADER_READ_TIMEOUT_SECS", "2".to_owned()),
        ("TWEETBUY_BODY_READ_TIMEOUT_SECS", "2".to_owned()),
    ];
    env.extend(extra);
    ServerProcess::start(Launch {
        data_dir: dir,
        database_url: None,
        schema_prefix: "tweetbuy",
        env,
        log_name: "server",
    })
}

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// Sends `head` one byte a second (then, if it is all out, `body` the same way) until the
/// server closes the connection; returns how long that took and what the server answered.
fn trickle(addr: &str, head: &[u8], body: &[u8]) -> (Duration, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in head.iter().chain(body) {
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        // Waits up to a second for the server to answer or hang up.
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => return (started.elapsed(), String::from_utf8_lossy(&answer).into_owned()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return (started.elapsed(), String::from_utf8_lossy(&answer).into_owned()),
        }
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    panic!("the server kept a trickling client for {:?}", started.elapsed());
}

async fn buy(http: &reqwest::Client, server: &ServerProcess, key: &str) -> u16 {
    let details = json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1,
                         "email": "fan@example.com"});
    let body = checkout(http, &server.api, &server.vault, &details, "4242424242424242").await;
    let (status, receipt) = order(http, &server.api, &body, key).await;
    assert_eq!(status, 201, "{receipt}");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_sent_a_byte_a_second_is_cut_off_while_other_orders_go_through() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), vec![]);
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: api.test\r\nUser-Agent: slow-slow-slow-slow-slow-slow-slow-slow\r\n\r\n";
    // Several slow clients on both origins at once.
    let slow: Vec<_> = (0..6)
        .map(|i| {
            let target = addr(if i % 2 == 0 { &server.api } else { &server.vault });
            std::thread::spawn(move || trickle(&target, head, b""))
        })
        .collect();

    let http = reqwest::Client::new();
    let started = Instant::now();
    for i in 0..3 {
        assert_eq!(buy(&http, &server, &format!("slow-head-{i}")).await, 201);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "orders did not wait for the slow clients");

    for client in slow {
        let (took, answer) = client.join().unwrap();
        assert!(took < Duration::from_secs(5), "cut off after {took:?}");
        assert!(!answer.contains("200 OK"), "a trickled head was never served: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_a_second_gets_408_while_other_orders_go_through() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), vec![]);
    let body = br#"{"intent_id":"pi_slowbody0000000000000000","client_secret":"pi_slowbody0000000000000000_secret_x","card_token":"tok_x"}"#;
    let head = format!(
        "POST /api/v1/orders HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n\
         Idempotency-Key: slow-body\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let target = addr(&server.api);
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&target).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        (stream, Instant::now())
    });
    let (mut stream, started) = slow.join().unwrap();
    let trickler = std::thread::spawn(move || {
        stream.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
        let mut answer = Vec::new();
        for byte in body.iter() {
            let _ = stream.write_all(&[*byte]);
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) if answer.is_empty() => {}
                Err(_) => break,
            }
        }
        (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
    });

    let http = reqwest::Client::new();
    for i in 0..3 {
        assert_eq!(buy(&http, &server, &format!("slow-body-{i}")).await, 201);
    }
    let (took, answer) = trickler.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_until_idle_ones_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), vec![("TWEETBUY_MAX_CONNECTIONS", "4".to_owned())]);
    // Four connections that send nothing take every slot of the api's listener...
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr(&server.api)).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let reply = reqwest::get(format!("{}/healthz", server.api)).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(reply.status(), 200);
    // ...so the fifth is served only once the header timeout (2 s) has closed them.
    assert!(waited >= Duration::from_millis(1500), "served at once: {waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    drop(idle);
    // The vault's listener has its own slots.
    let started = Instant::now();
    assert_eq!(reqwest::get(format!("{}/healthz", server.vault)).await.unwrap().status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
}
