//! The rounds of a background worker that sends what orders owe (receipts, waitlist
//! notices, webhooks): one every poll, and one more after the stop.
//!
//! The server stops these workers last, once its listeners have drained and every order has
//! finished (`serve`): those orders have written what they owe by then, and a round begun
//! after the stop sends it. Stopping at the signal instead would leave it to the next start, or to
//! another replica.

use std::time::Duration;
use tokio::sync::watch;

/// A worker's pace: `while rounds.next(poll).await { … }` after a first round.
pub struct Rounds {
    stop: watch::Receiver<bool>,
    /// The round under way began after the stop: it is the last.
    last: bool,
}

impl Rounds {
    /// Rounds until `stop` flips (or its sender goes), and one more.
    pub fn new(stop: watch::Receiver<bool>) -> Rounds {
        Rounds { stop, last: false }
    }

    /// Whether the stop has come: a round under way finishes what it began and starts
    /// nothing more (such as another batch), so nothing is sent twice.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow() || self.stop.has_changed().is_err()
    }

    /// Waits `poll`, or less once the stop comes; false once the last round is done.
    pub async fn next(&mut self, poll: Duration) -> bool {
        if self.last {
            return false;
        }
        if !self.stopping() {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = self.stop.wait_for(|stopped| *stopped) => {}
            }
        }
        self.last = self.stopping();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many rounds a worker makes, its first included, when the stop comes (or, with
    /// `drop_sender`, its sender goes) after `stop_after` of them.
    async fn rounds_made(stop_after: usize, drop_sender: bool) -> usize {
        let (tx, rx) = watch::channel(false);
        let mut tx = Some(tx);
        let mut rounds = Rounds::new(rx);
        let mut done = 1;
        loop {
            if done == stop_after {
                match drop_sender {
                    true => drop(tx.take()),
                    false => tx.as_ref().expect("the sender").send(true).expect("the worker listens"),
                }
            }
            if !rounds.next(Duration::from_millis(1)).await {
                return done;
            }
            done += 1;
            assert!(done < 100, "the rounds never end");
        }
    }

    #[tokio::test]
    async fn a_worker_goes_round_once_more_after_the_stop_and_then_ends() {
        assert_eq!(rounds_made(1, false).await, 2);
        assert_eq!(rounds_made(3, false).await, 4);
    }

    #[tokio::test]
    async fn a_stop_sender_gone_counts_as_the_stop() {
        assert_eq!(rounds_made(2, true).await, 3);
    }

    #[tokio::test]
    async fn between_rounds_a_worker_waits_its_poll_unless_stopped() {
        let (tx, rx) = watch::channel(false);
        let mut rounds = Rounds::new(rx);
        let hour = Duration::from_secs(3600);
        let waited = tokio::time::timeout(Duration::from_millis(50), rounds.next(hour)).await;
        assert!(waited.is_err(), "an hour's poll is waited");
        assert!(!rounds.stopping());
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(true).expect("the worker listens");
            tx
        });
        let more = tokio::time::timeout(Duration::from_secs(30), rounds.next(hour)).await;
        assert_eq!(more, Ok(true), "the stop cut the hour short, for one more round");
        assert!(rounds.stopping());
        assert!(!rounds.next(hour).await, "then no more");
        drop(stopper.await);
    }
}
