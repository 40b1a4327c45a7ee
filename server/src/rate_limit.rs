//! Per-client rate limits on the token and order endpoints: a token bucket per client IP,
//! refilled at `per_second` and holding at most `burst`. Over the limit, 429 `rate_limited`
//! with `Retry-After`. Generous by default so a real buyer (and the end-to-end tests) never
//! meets it; `--rate-limit-per-second 0` turns it off (benchmarks).
//!
//! The limiter is per process: with N replicas a client gets up to N times the rate, which
//! is the usual trade for keeping replicas stateless (see docs/deploy.md).

use crate::error::AppError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tweetbuy_core::ErrorCode;

/// The limit: sustained requests per second and the burst above it. `per_second == 0` is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second a client may keep sending; 0 turns the limit off.
    pub per_second: u32,
    /// Requests a client may send at once: its bucket's size (0 counts as 1).
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_second: 20, burst: 100 }
    }
}

/// Past this many clients in one generation, the generations turn early (see
/// [`RateLimiter`]): a bound on memory whatever the traffic, at the price of forgetting
/// buckets that may not be full yet when that many clients come at once.
const MAX_TRACKED: usize = 100_000;

/// Who a bucket belongs to: an IPv4 address, or an IPv6 client's /64. One subscriber is
/// usually given a whole /64, so limiting single IPv6 addresses would let one client take
/// 2^64 buckets.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
        },
    }
}

type Buckets = HashMap<IpAddr, (f64, Instant)>;

/// Token buckets in two generations. A bucket lives in `current` while used; every
/// `turn_every` (the time an empty bucket takes to fill) `current` becomes `previous` and the
/// old `previous` is dropped. A bucket untouched for a whole generation is full again, so
/// forgetting it loses nothing; cleanup costs O(1) under the lock (the dropped map is freed
/// after the lock is released), never a scan of every bucket.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    turn_every: Duration,
    state: Mutex<Generations>,
}

#[derive(Debug)]
struct Generations {
    current: Buckets,
    previous: Buckets,
    turned_at: Option<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Arc<RateLimiter> {
        let fill_seconds = f64::from(limit.burst.max(1)) / f64::from(limit.per_second.max(1));
        Arc::new(RateLimiter {
            limit,
            turn_every: Duration::from_secs_f64(fill_seconds.max(1.0)),
            state: Mutex::new(Generations { current: HashMap::new(), previous: HashMap::new(), turned_at: None }),
        })
    }

    /// Takes one token for `client` (by [`client_key`]) at `now`; `Err(seconds)` to wait when
    /// there is none.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.limit.per_second == 0 {
            return Ok(());
        }
        let key = client_key(client);
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst.max(1));
        let mut dropped = None;
        let outcome = {
            let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let turned_at = *state.turned_at.get_or_insert(now);
            if now.duration_since(turned_at) >= self.turn_every || state.current.len() >= MAX_TRACKED {
                let current = std::mem::take(&mut state.current);
                dropped = Some(std::mem::replace(&mut state.previous, current));
                state.turned_at = Some(now);
            }
            let carried = state.previous.remove(&key);
            let (tokens, at) = state.current.entry(key).or_insert_with(|| carried.unwrap_or((burst, now)));
            *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst);
            *at = now;
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                Ok(())
            } else {
                Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
            }
        };
        drop(dropped);
        outcome
    }

    /// How many buckets are held (both generations).
    pub fn tracked(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.current.len() + state.previous.len()
    }
}

/// The middleware. The client is the peer address; behind a load balancer, set the limit at
/// the balancer too, since every request then comes from its address.
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    match limiter.check(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::info!(path = %request.uri().path(), "rate limited");
            let error = AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "Too many requests. Try again shortly.",
            );
            ([(RETRY_AFTER, wait.to_string())], error).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_per_client() {
        let limiter = RateLimiter::new(RateLimit { per_second: 2, burst: 3 });
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.check(a, t0).is_ok()), "the burst");
        assert_eq!(limiter.check(a, t0), Err(1));
        assert!(limiter.check(b, t0).is_ok(), "another client has its own bucket");
        assert!(limiter.check(a, t0 + Duration::from_millis(500)).is_ok(), "one token back after 0.5 s at 2/s");
        assert!(limiter.check(a, t0 + Duration::from_millis(500)).is_err());
        let off = RateLimiter::new(RateLimit { per_second: 0, burst: 0 });
        assert!((0..1000).all(|_| off.check(a, t0).is_ok()));
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let limiter = RateLimiter::new(RateLimit { per_second: 1, burst: 2 });
        let t0 = Instant::now();
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff:eeee:dddd:cccc".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.check(one, t0).is_ok());
        assert!(limiter.check(same_64, t0).is_ok());
        assert!(limiter.check(same_64, t0).is_err(), "another address of the same /64 shares its bucket");
        assert!(limiter.check(other_64, t0).is_ok());
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), IpAddr::from([10, 0, 0, 1]), "v4-mapped");
        assert_eq!(client_key(IpAddr::from([10, 0, 0, 1])), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn idle_buckets_are_forgotten_by_generation_without_losing_a_limit() {
        // Fills in 2 s (burst 4 at 2/s): a generation lasts 2 s.
        let limiter = RateLimiter::new(RateLimit { per_second: 2, burst: 4 });
        let t0 = Instant::now();
        let busy = IpAddr::from([10, 0, 0, 1]);
        assert!((0..4).all(|_| limiter.check(busy, t0).is_ok()));
        for i in 0..1000u32 {
            let _ = limiter.check(IpAddr::from((0x0b00_0000 + i).to_be_bytes()), t0);
        }
        assert_eq!(limiter.tracked(), 1001);
        // One generation on, the empty bucket is carried over, not reset to full.
        let t1 = t0 + Duration::from_millis(2000);
        assert!(limiter.check(busy, t1).is_ok(), "refilled 4 tokens in 2 s");
        assert!((0..3).all(|_| limiter.check(busy, t1).is_ok()));
        assert!(limiter.check(busy, t1).is_err(), "still limited after the turn");
        assert_eq!(limiter.tracked(), 1001, "the idle ones are in the previous generation");
        // Two generations on, the idle clients are gone; the busy one is still tracked.
        let t2 = t1 + Duration::from_millis(2000);
        assert!(limiter.check(busy, t2).is_ok());
        assert_eq!(limiter.tracked(), 1, "idle buckets dropped without a scan");
    }
}
