//! The server's clock. Availability, token expiry and card expiry are all judged by it,
//! never by the client's.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Today's year and month (UTC), for card expiry checks.
pub fn year_month(unix_seconds: i64) -> (u16, u8) {
    let date = time::OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (date.year().clamp(0, i32::from(u16::MAX)) as u16, u8::from(date.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_in_utc() {
        assert_eq!(year_month(0), (1970, 1));
        // 2026-11-30T23:59:59Z and one second later.
        assert_eq!(year_month(1_796_083_199), (2026, 11));
        assert_eq!(year_month(1_796_083_200), (2026, 12));
        assert!(now() > 1_700_000_000);
    }
}
