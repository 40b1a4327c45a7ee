//! Types that hold the set of sources or subscribers affiliated with a reactive node.
//!
//! At the moment, these are implemented as linear maps built on a `Vec<_>`. This is for the sake
//! of minimizing binary size as much as possible, and on the assumption that the M:N relationship
//! between sources and subscribers usually consists of fairly small numbers, such that the cost of
//! a linear search is not significantly more expensive than a hash and lookup.

use super::{AnySource, AnySubscriber, Source};
use std::mem;

// tweetbuy's patch: a `Vec` searched in order, as this module's documentation
// above says, where the release this copy comes from keeps an
// `indexmap::IndexSet` (with `FxHasher`). The sets hold a few entries each in a
// widget's sheet, and the checkout module no longer links indexmap (nor its part
// of hashbrown) for them: patches/README.md says what that saves. Order is kept
// as before: an entry already in a set stays where it is, and removing one
// shifts the rest (`unsubscribe` below says why that matters).
type FxIndexSet<T> = Vec<T>;

#[derive(Default, Clone, Debug)]
pub struct SourceSet(FxIndexSet<AnySource>);

impl SourceSet {
    pub fn new() -> Self {
        Self(Default::default())
    }

    pub fn insert(&mut self, source: AnySource) {
        if !self.0.contains(&source) {
            self.0.push(source);
        }
    }

    pub fn remove(&mut self, source: &AnySource) {
        if let Some(at) = self.0.iter().position(|s| s == source) {
            self.0.remove(at);
        }
    }

    pub fn take(&mut self) -> FxIndexSet<AnySource> {
        mem::take(&mut self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn clear_sources(&mut self, subscriber: &AnySubscriber) {
        for source in self.take() {
            source.remove_subscriber(subscriber);
        }
    }
}

impl IntoIterator for SourceSet {
    type Item = AnySource;
    type IntoIter = <FxIndexSet<AnySource> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a SourceSet {
    type Item = &'a AnySource;
    type IntoIter = <&'a FxIndexSet<AnySource> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
#[derive(Debug, Default, Clone)]
pub struct SubscriberSet(FxIndexSet<AnySubscriber>);

impl SubscriberSet {
    pub fn new() -> Self {
        Self(Vec::with_capacity(2))
    }

    pub fn subscribe(&mut self, subscriber: AnySubscriber) {
        if !self.0.contains(&subscriber) {
            self.0.push(subscriber);
        }
    }

    pub fn unsubscribe(&mut self, subscriber: &AnySubscriber) {
        // note: do not use `.swap_remove()` here.
        // using `.remove()` is slower because it shifts other items
        // but it maintains the order of the subscribers, which is important
        // to correctness when you're using this to drive something like a UI,
        // which can have nested effects, where the inner one assumes the outer
        // has already run (for example, an outer effect that checks .is_some(),
        // and an inner effect that unwraps)
        if let Some(at) = self.0.iter().position(|s| s == subscriber) {
            self.0.remove(at);
        }
    }

    pub fn take(&mut self) -> FxIndexSet<AnySubscriber> {
        mem::take(&mut self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl IntoIterator for SubscriberSet {
    type Item = AnySubscriber;
    type IntoIter = <FxIndexSet<AnySubscriber> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a SubscriberSet {
    type Item = &'a AnySubscriber;
    type IntoIter = <&'a FxIndexSet<AnySubscriber> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

// tweetbuy's tests of its patch: what the `IndexSet` did that the crate's own
// tests do not check (each entry once, order kept when one leaves).
#[cfg(test)]
mod tweetbuy_tests {
    use super::{SourceSet, SubscriberSet};
    use crate::{
        computed::ArcMemo,
        graph::{ToAnySource, ToAnySubscriber},
        signal::ArcRwSignal,
    };

    #[test]
    fn a_source_is_kept_once_and_removed_whole() {
        let a = ArcRwSignal::new(0).to_any_source();
        let b = ArcRwSignal::new(1).to_any_source();
        let mut set = SourceSet::new();
        set.insert(a.clone());
        set.insert(b.clone());
        set.insert(a.clone());
        assert_eq!(
            (&set).into_iter().collect::<Vec<_>>(),
            vec![&a, &b],
            "kept where it first came"
        );
        set.remove(&a);
        assert_eq!((&set).into_iter().collect::<Vec<_>>(), vec![&b]);
        set.remove(&a);
        assert_eq!(set.len(), 1, "removing what is not there changes nothing");
    }

    #[test]
    fn subscribers_keep_their_order_when_one_leaves() {
        let memos: Vec<_> = (0..4)
            .map(|n| ArcMemo::new(move |_| n).to_any_subscriber())
            .collect();
        let mut set = SubscriberSet::new();
        for memo in &memos {
            set.subscribe(memo.clone());
        }
        set.subscribe(memos[0].clone());
        set.unsubscribe(&memos[1]);
        let left: Vec<_> = set.into_iter().collect();
        assert_eq!(left, [&memos[0], &memos[2], &memos[3]].map(Clone::clone));
    }
}
