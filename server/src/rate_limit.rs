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
use std::time::Instant;
use tweetbuy_core::ErrorCode;

/// The limit: sustained requests per second and the burst above it. `per_second == 0` is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_second: 20, burst: 100 }
    }
}

/// Past this many clients, full buckets are forgotten (they carry no information).
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Arc<RateLimiter> {
        Arc::new(RateLimiter { limit, buckets: Mutex::new(HashMap::new()) })
    }

    /// Takes one token for `client` at `now`; `Err(seconds)` to wait when there is none.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.limit.per_second == 0 {
            return Ok(());
        }
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(client).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
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
    use std::time::Duration;

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
}
