//! Group commit on PostgreSQL: writes of one kind that arrive while another batch of them is
//! being written go together, in one statement, as one transaction.
//!
//! A write transaction on PostgreSQL costs its server about 0.1 ms of CPU however little it
//! writes (its transaction id, its WAL, its commit; measured with `pgbench` beside the
//! benchmark, docs/performance-log.md), and the purchase path is made of single-row writes: on a
//! machine of two cores that fixed cost, paid by every buyer for every write, was a quarter
//! of what the database spent on a purchase. A [`Group`] lets the
//! first caller of a quiet moment write at once, alone, and gathers whoever comes while that
//! write runs into the next one. Nobody waits for a batch to fill: under a light load every
//! write is written as it comes, and under a heavy one the batches grow with the queue.
//!
//! Every item of a batch is answered on its own. The batch's writer decides how: the usual
//! way is one statement for all, and when that fails (one row that breaks a constraint
//! fails them all) each item again alone, so each caller gets the answer it would have got
//! without the group.
//!
//! The batch runs in a task of its own, so a caller that goes away (a client hanging up)
//! never leaves a batch half-answered: the others are answered when it ends.

use super::{Db, PoolKey};
use crate::error::AppError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// How many items one batch takes at most; the rest wait for the next.
const MOST: usize = 64;

/// An item waiting for its batch, and where its answer goes.
type Waiting<T, R> = (T, oneshot::Sender<Result<R, AppError>>);

/// One pool's group of one kind of write.
struct Group<T, R> {
    waiting: Mutex<Vec<Waiting<T, R>>>,
    /// Held by the caller whose batch is being written: the others gather meanwhile.
    turn: tokio::sync::Mutex<()>,
}

/// One pool's groups, by name.
type PoolGroups<T, R> = (PoolKey, HashMap<String, Arc<Group<T, R>>>);

/// The groups of one kind of write, one per pool (a process may open several, as the tests
/// do), or one per pool and name when only writes of one name may go together (the
/// placements of one variant). Declared as a `static` beside the write it groups.
pub struct Groups<T, R> {
    each: Mutex<Vec<PoolGroups<T, R>>>,
}

impl<T: Send + 'static, R: Send + 'static> Default for Groups<T, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static, R: Send + 'static> Groups<T, R> {
    pub(crate) const fn new() -> Self {
        Groups { each: Mutex::new(Vec::new()) }
    }

    fn of(&self, db: &Db, name: &str) -> Arc<Group<T, R>> {
        let options = db.connect_options();
        let mut each = self.each.lock().unwrap_or_else(|e| e.into_inner());
        each.retain(|(key, _)| key.is_live());
        let index = match each.iter().position(|(key, _)| key.is(&options)) {
            Some(index) => index,
            None => {
                each.push((PoolKey::of(&options), HashMap::new()));
                each.len() - 1
            }
        };
        let groups = &mut each[index].1;
        if let Some(group) = groups.get(name) {
            return group.clone();
        }
        let group = Arc::new(Group { waiting: Mutex::new(Vec::new()), turn: tokio::sync::Mutex::new(()) });
        groups.insert(name.to_owned(), group.clone());
        group
    }

    /// Writes `item` with whatever else of its kind is waiting: `write` gets the batch, in
    /// the order the items came, and answers each (one answer per item, in that order).
    pub async fn join<W, F>(&self, db: &Db, item: T, write: W) -> Result<R, AppError>
    where
        W: FnOnce(Db, Vec<T>) -> F,
        F: Future<Output = Vec<Result<R, AppError>>> + Send + 'static,
    {
        self.join_named(db, "", item, write).await
    }

    /// [`Groups::join`] with only the writes of the same `name`.
    pub async fn join_named<W, F>(&self, db: &Db, name: &str, item: T, write: W) -> Result<R, AppError>
    where
        W: FnOnce(Db, Vec<T>) -> F,
        F: Future<Output = Vec<Result<R, AppError>>> + Send + 'static,
    {
        let group = self.of(db, name);
        let (answer, mut answered) = oneshot::channel();
        group.waiting.lock().unwrap_or_else(|e| e.into_inner()).push((item, answer));
        let turn = tokio::select! {
            biased;
            answer = &mut answered => return received(answer),
            turn = group.turn.lock() => turn,
        };
        // A batch that ended before this turn came may have taken the item: it has
        // answered it then. Else the item is waiting still, unless a batch whose caller
        // went away took it and is still being written: then it is answered when that ends.
        if let Ok(answer) = answered.try_recv() {
            return answer;
        }
        let batch: Vec<Waiting<T, R>> = {
            let mut waiting = group.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let take = waiting.len().min(MOST);
            waiting.drain(..take).collect()
        };
        if !batch.is_empty() {
            let (items, answers): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
            let written = write(db.clone(), items);
            let task = tokio::spawn(async move {
                let mut results = written.await.into_iter();
                for answer in answers {
                    let result = results
                        .next()
                        .unwrap_or_else(|| Err(AppError::internal("a group commit's batch left an item unanswered")));
                    let _ = answer.send(result);
                }
            });
            // Ended or not (a panic drops the answers, which their callers are told), the
            // next batch may start.
            let _ = task.await;
        }
        drop(turn);
        received(answered.await)
    }
}

/// The usual writer of a batch of `count` items: `together`, one statement for all of them,
/// answering each item in order, and when that fails (one row that breaks a constraint
/// fails the statement), or for a batch of one, `alone(i)` for each item `i`, so each gets
/// the answer it would have got by itself.
pub async fn together_or_alone<R, Alone: Future<Output = Result<R, AppError>>>(
    count: usize,
    what: &'static str,
    together: impl Future<Output = Result<Vec<R>, AppError>>,
    mut alone: impl FnMut(usize) -> Alone,
) -> Vec<Result<R, AppError>> {
    if count > 1 {
        match together.await {
            Ok(answers) => return answers.into_iter().map(Ok).collect(),
            Err(error) => tracing::warn!(%error, rows = count, what, "a batch is written row by row"),
        }
    }
    let mut answers = Vec::with_capacity(count);
    for i in 0..count {
        answers.push(alone(i).await);
    }
    answers
}

fn received<R>(answer: Result<Result<R, AppError>, oneshot::error::RecvError>) -> Result<R, AppError> {
    answer.unwrap_or_else(|_| Err(AppError::internal("a group commit's batch ended without answering")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    static GROUPS: Groups<u32, u32> = Groups::new();

    fn pool() -> Db {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new().connect_lazy("sqlite::memory:").unwrap()
    }

    /// Items that come while a batch is written go together in the next one, in the order
    /// they came, and each caller gets its own answer.
    #[tokio::test]
    async fn gathers_what_comes_while_a_batch_is_written() {
        let db = pool();
        let batches = Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
        let (release, released) = tokio::sync::watch::channel(false);
        let mut callers = Vec::new();
        for item in 0..6u32 {
            let (db, seen, mut released) = (db.clone(), batches.clone(), released.clone());
            callers.push(tokio::spawn(async move {
                GROUPS
                    .join(&db, item, move |_, items: Vec<u32>| async move {
                        seen.lock().unwrap().push(items.clone());
                        // The first batch is held until every other caller is waiting.
                        let _ = released.wait_for(|r| *r).await;
                        items
                            .into_iter()
                            .map(|i| if i == 4 { Err(AppError::internal("four")) } else { Ok(i * 10) })
                            .collect()
                    })
                    .await
            }));
            if item == 0 {
                while batches.lock().unwrap().is_empty() {
                    tokio::task::yield_now().await;
                }
            }
        }
        // Everybody else is in line before the first batch ends.
        while GROUPS.of(&db, "").waiting.lock().unwrap().len() < 5 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release.send(true).unwrap();
        let mut answers = Vec::new();
        for caller in callers {
            answers.push(caller.await.unwrap().map_err(|e| e.to_string()));
        }
        assert_eq!(*batches.lock().unwrap(), vec![vec![0], vec![1, 2, 3, 4, 5]]);
        assert_eq!(answers[..4], [Ok(0), Ok(10), Ok(20), Ok(30)]);
        assert!(answers[4].is_err());
        assert_eq!(answers[5], Ok(50));
    }

    /// Writes of another name neither join nor wait for a batch of this name.
    #[tokio::test]
    async fn names_keep_their_batches_apart() {
        static NAMED: Groups<u32, u32> = Groups::new();
        let db = pool();
        let batches = Arc::new(Mutex::new(Vec::<(&str, Vec<u32>)>::new()));
        let (release, released) = tokio::sync::watch::channel(false);
        let caller = |name: &'static str, item: u32, held: bool| {
            let (db, seen, mut released) = (db.clone(), batches.clone(), released.clone());
            tokio::spawn(async move {
                NAMED
                    .join_named(&db, name, item, move |_, items: Vec<u32>| async move {
                        seen.lock().unwrap().push((name, items.clone()));
                        if held {
                            let _ = released.wait_for(|r| *r).await;
                        }
                        items.into_iter().map(Ok).collect()
                    })
                    .await
            })
        };
        let first = caller("a", 1, true);
        while batches.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let other = caller("b", 2, false);
        let answer = tokio::time::timeout(Duration::from_secs(10), other).await.expect("not held by name a");
        assert_eq!(answer.unwrap().unwrap(), 2);
        let second = caller("a", 3, false);
        while NAMED.of(&db, "a").waiting.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        assert_eq!((first.await.unwrap().unwrap(), second.await.unwrap().unwrap()), (1, 3));
        assert_eq!(*batches.lock().unwrap(), vec![("a", vec![1]), ("b", vec![2]), ("a", vec![3])]);
    }

    /// A caller that goes away while its batch is written does not leave the others of the
    /// batch unanswered.
    #[tokio::test]
    async fn a_caller_going_away_leaves_no_one_unanswered() {
        static AWAY: Groups<u32, u32> = Groups::new();
        let db = pool();
        let written = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let write = |written: Arc<AtomicUsize>, mut released: tokio::sync::watch::Receiver<bool>| {
            move |_: Db, items: Vec<u32>| async move {
                let _ = released.wait_for(|r| *r).await;
                written.fetch_add(items.len(), Ordering::SeqCst);
                items.into_iter().map(Ok).collect::<Vec<_>>()
            }
        };
        let first = {
            let (db, write) = (db.clone(), write(written.clone(), released.clone()));
            tokio::spawn(async move { AWAY.join(&db, 1, write).await })
        };
        while AWAY.of(&db, "").turn.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        let second = {
            let (db, write) = (db.clone(), write(written.clone(), released.clone()));
            tokio::spawn(async move { AWAY.join(&db, 2, write).await })
        };
        first.abort();
        release.send(true).unwrap();
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(written.load(Ordering::SeqCst), 2);
    }
}
