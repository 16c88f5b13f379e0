//! The waiting room: higher priority first, first in first out within one priority.

use std::collections::{BTreeMap, VecDeque};

/// A priority ordered by `f64::total_cmp`, with -0 folded into 0.
#[derive(Debug, Clone, Copy)]
struct Rank(f64);

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for Rank {}
impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Rank {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Nearly every job has priority 0, so those live in one plain deque that is never
/// dropped and re-made; other priorities get a deque each, dropped when it empties.
#[derive(Debug)]
pub struct PriorityQueue<T> {
    default: VecDeque<T>,
    ranked: BTreeMap<Rank, VecDeque<T>>,
    len: usize,
}

impl<T> Default for PriorityQueue<T> {
    fn default() -> Self {
        Self {
            default: VecDeque::new(),
            ranked: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T> PriorityQueue<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, priority: f64, item: T) {
        self.len += 1;
        if priority == 0.0 {
            self.default.push_back(item);
        } else {
            self.ranked
                .entry(Rank(priority))
                .or_default()
                .push_back(item);
        }
    }

    /// Whether the best item is in a ranked deque (rather than the default one).
    fn best_is_ranked(&self) -> bool {
        let top_rank = self.ranked.last_key_value().map(|(rank, _)| rank.0);
        matches!(top_rank, Some(rank) if rank > 0.0 || self.default.is_empty())
    }

    /// The item `pop` would take next.
    pub fn peek(&self) -> Option<&T> {
        if self.best_is_ranked() {
            self.ranked.last_key_value()?.1.front()
        } else {
            self.default.front()
        }
    }

    pub fn pop(&mut self) -> Option<T> {
        let item = if self.best_is_ranked() {
            self.pop_ranked_last()
        } else {
            self.default.pop_front()
        }?;
        self.len -= 1;
        Some(item)
    }

    fn pop_ranked_last(&mut self) -> Option<T> {
        let mut bucket = self.ranked.last_entry()?;
        let item = bucket.get_mut().pop_front();
        if bucket.get().is_empty() {
            bucket.remove();
        }
        item
    }

    /// Everything still waiting, highest priority first.
    pub fn drain(&mut self) -> Vec<T> {
        let mut all = Vec::with_capacity(self.len);
        while let Some(item) = self.pop() {
            all.push(item);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_within_one_priority() {
        let mut queue = PriorityQueue::default();
        for i in 0..5 {
            queue.push(0.0, i);
        }
        assert_eq!(queue.drain(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn higher_priority_first_then_fifo() {
        let mut queue = PriorityQueue::default();
        queue.push(0.0, "zero-a");
        queue.push(-1.0, "minus-one");
        queue.push(5.0, "five-a");
        queue.push(0.5, "half");
        queue.push(5.0, "five-b");
        queue.push(-0.0, "zero-b");
        assert_eq!(queue.len(), 6);
        assert_eq!(
            queue.drain(),
            vec!["five-a", "five-b", "half", "zero-a", "zero-b", "minus-one"]
        );
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn negative_priorities_wait_for_the_default_ones() {
        let mut queue = PriorityQueue::default();
        queue.push(-2.0, 1);
        assert_eq!(queue.pop(), Some(1));
        queue.push(-2.0, 2);
        queue.push(0.0, 3);
        assert_eq!(queue.peek(), Some(&3));
        assert_eq!(queue.pop(), Some(3));
        assert_eq!(queue.peek(), Some(&2));
        assert_eq!(queue.pop(), Some(2));
    }
}
