//! The intents this process has just written, kept for the orders that pay them, on
//! PostgreSQL, where reading one back is a round trip to the database for every buyer.
//!
//! A buyer presses Pay seconds after their intent is written, and on one server (or a replica
//! a load balancer keeps them on) the order reaches the process that wrote it. An intent's row
//! never changes once written but for the order that claims it, and the placement checks that
//! claim in the database whatever is kept here; its secret and its expiry are weighed at each
//! use as they are for a row read. So the order step takes the kept intent instead of reading
//! it, and with its product kept too ([`super::product_cache`]) an order reads nothing before
//! its placement. An intent is taken once: an order tried again, or sent to a replica that did
//! not write the intent, reads it from the database.
//!
//! What is kept is bounded: two generations of [`GENERATION`] intents each, the older dropped
//! whole when the younger is full, so an intent nobody pays for is forgotten after a few
//! thousand more have been written, and the api's periodic sweep forgets the expired ones
//! (an intent holds a buyer's email and address: none stays in memory long after it could
//! be paid). On SQLite nothing is kept: a read is a call within the process.

use crate::api::intents::IntentRow;
use crate::db::{engine_of, Db, Engine};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many intents a generation holds (a few seconds of a flash sale's buyers).
const GENERATION: usize = 4096;

/// One process's kept intents (cheap to clone: the clones share them).
#[derive(Clone, Default)]
pub struct KeptIntents(Arc<Mutex<Generations>>);

#[derive(Default)]
struct Generations {
    young: HashMap<String, IntentRow>,
    old: HashMap<String, IntentRow>,
}

impl KeptIntents {
    /// Whether intents written to `db` are kept.
    pub(crate) fn keeps(db: &Db) -> bool {
        engine_of(db) == Engine::Postgres
    }

    /// Keeps an intent just written (see [`KeptIntents::keeps`]).
    pub(crate) fn keep(&self, row: IntentRow) {
        let dropped = {
            let mut kept = self.lock();
            let dropped = match kept.young.len() >= GENERATION {
                true => {
                    let young = std::mem::take(&mut kept.young);
                    Some(std::mem::replace(&mut kept.old, young))
                }
                false => None,
            };
            kept.young.insert(row.id.clone(), row);
            dropped
        };
        // A generation is freed once the lock is let go: other buyers need not wait for it.
        drop(dropped);
    }

    /// The kept intent `id` when `check` accepts it, forgotten here then: an order takes its
    /// intent once. One it refuses (a wrong secret, an expired intent) stays, so a guess
    /// costs the buyer's order nothing.
    pub(crate) fn take_if<T, E>(
        &self,
        id: &str,
        check: impl FnOnce(IntentRow) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let row = {
            let kept = self.lock();
            kept.young.get(id).or_else(|| kept.old.get(id)).cloned()
        }?;
        let checked = check(row);
        if checked.is_ok() {
            let mut kept = self.lock();
            if kept.young.remove(id).is_none() {
                kept.old.remove(id);
            }
        }
        Some(checked)
    }

    /// Forgets every intent that has expired by `now` (Unix seconds).
    pub(crate) fn forget_expired(&self, now: i64) {
        let mut kept = self.lock();
        kept.young.retain(|_, row| row.expires_at > now);
        kept.old.retain(|_, row| row.expires_at > now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> IntentRow {
        IntentRow::example(id)
    }

    /// Takes `id` if it is kept, accepting it.
    fn take(kept: &KeptIntents, id: &str) -> Option<IntentRow> {
        kept.take_if(id, Ok::<_, ()>).map(Result::unwrap)
    }

    #[test]
    fn an_intent_is_given_once_and_only_when_accepted() {
        let kept = KeptIntents::default();
        kept.keep(row("pi_a"));
        assert_eq!(kept.take_if("pi_a", |_| Err::<(), _>("wrong secret")), Some(Err("wrong secret")));
        assert_eq!(take(&kept, "pi_a").map(|r| r.id), Some("pi_a".to_owned()), "a refusal left it kept");
        assert!(take(&kept, "pi_a").is_none(), "taken once");
        assert!(take(&kept, "pi_b").is_none());
    }

    #[test]
    fn expired_intents_are_forgotten() {
        let kept = KeptIntents::default();
        let mut old = row("pi_old");
        old.expires_at = 100;
        let mut live = row("pi_live");
        live.expires_at = 200;
        kept.keep(old);
        kept.keep(live);
        kept.forget_expired(100);
        assert!(take(&kept, "pi_old").is_none());
        assert!(take(&kept, "pi_live").is_some());
    }

    #[test]
    fn the_oldest_intents_are_forgotten_once_two_generations_are_full() {
        let kept = KeptIntents::default();
        for n in 0..GENERATION * 2 + 1 {
            kept.keep(row(&format!("pi_{n}")));
        }
        assert!(take(&kept, "pi_0").is_none(), "the first generation was dropped");
        assert!(take(&kept, &format!("pi_{GENERATION}")).is_some(), "the second is kept");
        assert!(take(&kept, &format!("pi_{}", GENERATION * 2)).is_some(), "the third is kept");
        let held = {
            let g = kept.lock();
            g.young.len() + g.old.len()
        };
        assert!(held <= GENERATION * 2);
    }
}
