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
//! thousand more have been written. On SQLite nothing is kept: a read is a call within the
//! process.

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
        let mut kept = self.lock();
        if kept.young.len() >= GENERATION {
            kept.old = std::mem::take(&mut kept.young);
        }
        kept.young.insert(row.id.clone(), row);
    }

    /// The kept intent `id`, forgotten here as it is given.
    pub(crate) fn take(&self, id: &str) -> Option<IntentRow> {
        let mut kept = self.lock();
        kept.young.remove(id).or_else(|| kept.old.remove(id))
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

    #[test]
    fn an_intent_is_given_once() {
        let kept = KeptIntents::default();
        kept.keep(row("pi_a"));
        assert_eq!(kept.take("pi_a").map(|r| r.id), Some("pi_a".to_owned()));
        assert!(kept.take("pi_a").is_none(), "taken once");
        assert!(kept.take("pi_b").is_none());
    }

    #[test]
    fn the_oldest_intents_are_forgotten_once_two_generations_are_full() {
        let kept = KeptIntents::default();
        for n in 0..GENERATION * 2 + 1 {
            kept.keep(row(&format!("pi_{n}")));
        }
        assert!(kept.take("pi_0").is_none(), "the first generation was dropped");
        assert!(kept.take(&format!("pi_{GENERATION}")).is_some(), "the second is kept");
        assert!(kept.take(&format!("pi_{}", GENERATION * 2)).is_some(), "the third is kept");
        let held = {
            let g = kept.lock();
            g.young.len() + g.old.len()
        };
        assert!(held <= GENERATION * 2);
    }
}
