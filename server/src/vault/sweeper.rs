//! The vault's housekeeping on a clock, so that nothing outlives its time just because no
//! request came along: the numbers of one-time cards whose 15 minutes are up, old
//! tokenization keys and saved-card tokens, profiles whose device credential has not been
//! used for [`CREDENTIAL_IDLE_SECONDS`], and expired decline counts and card blocks.

use super::card_store::{self, TOKEN_TTL_SECONDS};
use super::{card_testing, profile_store, VaultState};
use crate::clock;
use crate::db::Db;
use crate::error::AppError;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the sweep runs: a one-time card's number outlives its 15 minutes by at most
/// this much.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// A device credential unused for this long (180 days) stops working, and its profile
/// (contact and card) is erased.
pub const CREDENTIAL_IDLE_SECONDS: i64 = 180 * 24 * 60 * 60;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// One-time cards whose numbers were erased ([`card_store::erase_expired`]).
    pub cards_erased: u64,
    /// Tokenization idempotency keys forgotten, older than a token's life.
    pub token_requests_purged: u64,
    /// Saved-card tokens deleted, a day past their expiry.
    pub saved_tokens_purged: u64,
    /// Profiles erased, contact and card, after [`CREDENTIAL_IDLE_SECONDS`] unused.
    pub profiles_erased: u64,
}

/// One sweep at `now` (Unix seconds).
pub async fn sweep_once(db: &Db, now: i64) -> Result<SweepReport, AppError> {
    let mut report = SweepReport { cards_erased: card_store::erase_expired(db, now).await?, ..Default::default() };
    // A retry of a tokenize request comes within the token's life; past it the key only
    // points at an erased card.
    report.token_requests_purged = card_store::purge_token_requests(db, now - TOKEN_TTL_SECONDS).await?;
    report.saved_tokens_purged = profile_store::purge_saved_tokens(db, now).await?;
    for profile in profile_store::unused_since(db, now - CREDENTIAL_IDLE_SECONDS).await? {
        profile_store::delete(db, &profile).await?;
        tracing::info!(profile_id = %profile.id, "saved info erased: its device credential went unused for 180 days");
        report.profiles_erased += 1;
    }
    card_testing::purge(db, now).await?;
    Ok(report)
}

/// Sweeps every `every` with the time `now()` gives, until `stop` turns true. Takes the
/// clock as a function so tests can move it.
pub async fn run(db: Db, every: Duration, now: impl Fn() -> i64, mut stop: watch::Receiver<bool>) {
    loop {
        match sweep_once(&db, now()).await {
            Ok(report) if report != SweepReport::default() => tracing::info!(?report, "vault sweep"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "vault sweep failed; trying again at the next one"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

/// Starts the sweeper for a serving vault, on the real clock, every [`SWEEP_EVERY`], until
/// `stop` turns true. Call it once per process where the vault's state is built.
pub fn spawn_sweeper(state: &VaultState, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(run(state.db.clone(), SWEEP_EVERY, clock::now, stop))
}
