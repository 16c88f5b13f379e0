//! What the pool measures of itself: run and wait times per label, completions, utilization.

use super::{Engine, Sink};
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// A histogram in milliseconds, as Piscina reports `runTime` and `waitTime`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    /// Of all values, exact (the percentiles are within 1 %).
    pub sum: f64,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// One kind of duration (running, or waiting) of the jobs of one label.
#[derive(Clone)]
pub struct Timing {
    /// Nanoseconds, two significant digits, auto-resizing: any duration fits, and a
    /// histogram stays a few KiB.
    histogram: Histogram<u64>,
    sum: Duration,
}

const NANOS_PER_MS: f64 = 1e6;

impl Default for Timing {
    fn default() -> Self {
        Self {
            histogram: Histogram::new(2).expect("2 significant digits is a valid precision"),
            sum: Duration::ZERO,
        }
    }
}

impl Timing {
    fn record(&mut self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX / 2);
        // An auto-resizing histogram refuses only values past u64's range, excluded above.
        self.histogram
            .record(nanos.max(1))
            .expect("an auto-resizing histogram takes any u64");
        self.sum += duration;
    }

    fn add(&mut self, other: &Timing) {
        self.histogram
            .add(&other.histogram)
            .expect("an auto-resizing histogram takes any other");
        self.sum += other.sum;
    }

    pub fn summary(&self) -> Summary {
        let histogram = &self.histogram;
        if histogram.is_empty() {
            return Summary::default();
        }
        let ms = |nanos: u64| nanos as f64 / NANOS_PER_MS;
        Summary {
            count: histogram.len(),
            sum: self.sum.as_secs_f64() * 1e3,
            mean: histogram.mean() / NANOS_PER_MS,
            stddev: histogram.stdev() / NANOS_PER_MS,
            min: ms(histogram.min()),
            max: ms(histogram.max()),
            p50: ms(histogram.value_at_quantile(0.5)),
            p90: ms(histogram.value_at_quantile(0.9)),
            p99: ms(histogram.value_at_quantile(0.99)),
        }
    }

    /// For each bound, how many durations were at most that long, as Prometheus counts
    /// its buckets (cumulative; within the histogram's 1 % near a bound).
    pub fn counts_up_to(&self, bounds: &[Duration]) -> Vec<u64> {
        bounds
            .iter()
            .map(|bound| {
                let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX / 2);
                self.histogram.count_between(0, nanos)
            })
            .collect()
    }
}

/// The run and wait times of the jobs of one label.
#[derive(Clone, Default)]
pub struct LabelTimes {
    pub run: Timing,
    pub wait: Timing,
}

/// Recorded under the scheduler's lock, which each worker takes anyway between jobs,
/// so the figures cost no lock of their own.
pub struct Stats {
    started: Instant,
    /// By the jobs' `label`.
    by_label: Vec<LabelTimes>,
    busy: Duration,
    completed: u64,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            by_label: Vec::new(),
            busy: Duration::ZERO,
            completed: 0,
        }
    }

    fn label(&mut self, label: usize) -> &mut LabelTimes {
        if label >= self.by_label.len() {
            self.by_label.resize_with(label + 1, LabelTimes::default);
        }
        &mut self.by_label[label]
    }

    pub fn record_wait(&mut self, label: usize, waited: Duration) {
        self.label(label).wait.record(waited);
    }

    pub fn record_run(&mut self, label: usize, ran: Duration) {
        self.label(label).run.record(ran);
        self.busy += ran;
        self.completed += 1;
    }

    pub fn completed(&self) -> u64 {
        self.completed
    }

    /// Every label's times merged.
    pub fn all(&self) -> LabelTimes {
        let mut all = LabelTimes::default();
        for times in &self.by_label {
            all.run.add(&times.run);
            all.wait.add(&times.wait);
        }
        all
    }

    /// The times of each label seen, by label (labels never seen have empty times).
    pub fn by_label(&self) -> &[LabelTimes] {
        &self.by_label
    }

    /// Time spent running jobs over the capacity since the pool started, 0..=1.
    pub fn utilization(&self, max_threads: usize) -> f64 {
        let capacity = self.started.elapsed().as_secs_f64() * max_threads as f64;
        if capacity <= 0.0 {
            return 0.0;
        }
        (self.busy.as_secs_f64() / capacity).clamp(0.0, 1.0)
    }
}

/// The engine's live figures, as `Pool`'s members report them.
impl<O: Send + 'static, S: Sink<O>> Engine<O, S> {
    /// The numbers of the live threads, in the order they were started.
    pub fn threads(&self) -> Vec<u32> {
        self.shared.state.lock().live.clone()
    }

    /// Jobs accepted that no thread has started yet.
    pub fn queue_size(&self) -> usize {
        let state = self.shared.state.lock();
        state.queue.len() - state.cancelled_in_queue
    }

    pub fn completed(&self) -> u64 {
        self.shared.state.lock().stats.completed()
    }

    pub fn utilization(&self) -> f64 {
        let max_threads = self.shared.config.max_threads;
        self.shared.state.lock().stats.utilization(max_threads)
    }

    /// The run and wait times of every job so far.
    pub fn times(&self) -> LabelTimes {
        self.shared.state.lock().stats.all()
    }

    /// The run and wait times by the jobs' `label` (labels never seen have empty times).
    pub fn times_by_label(&self) -> Vec<LabelTimes> {
        self.shared.state.lock().stats.by_label().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_in_milliseconds() {
        let mut stats = Stats::new();
        for ms in [1, 2, 3, 4, 100] {
            stats.record_run(0, Duration::from_millis(ms));
        }
        let run = stats.all().run.summary();
        assert_eq!(run.count, 5);
        assert_eq!(stats.completed(), 5);
        assert!((run.sum - 110.0).abs() < 1e-9, "{run:?}");
        assert!((run.min - 1.0).abs() < 0.02, "{run:?}");
        assert!((run.max - 100.0).abs() < 1.0, "{run:?}");
        assert!((run.p50 - 3.0).abs() < 0.03, "{run:?}");
        assert!((run.mean - 22.0).abs() < 0.3, "{run:?}");
        assert_eq!(stats.all().wait.summary(), Summary::default());
    }

    #[test]
    fn labels_are_kept_apart_and_merged() {
        let mut stats = Stats::new();
        stats.record_run(2, Duration::from_millis(10));
        stats.record_run(2, Duration::from_millis(30));
        stats.record_wait(0, Duration::from_millis(5));
        stats.record_run(0, Duration::from_millis(1));
        let labels = stats.by_label();
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[1].run.summary().count, 0);
        assert_eq!(labels[2].run.summary().count, 2);
        assert!((labels[2].run.summary().sum - 40.0).abs() < 1e-9);
        assert_eq!(labels[0].wait.summary().count, 1);
        assert_eq!(stats.all().run.summary().count, 3);
        assert!((stats.all().run.summary().sum - 41.0).abs() < 1e-9);
    }

    #[test]
    fn bucket_counts_are_cumulative() {
        let mut timing = Timing::default();
        for ms in [1, 4, 4, 20, 900] {
            timing.record(Duration::from_millis(ms));
        }
        let bounds = [2, 5, 50, 1000].map(Duration::from_millis);
        assert_eq!(timing.counts_up_to(&bounds), [1, 3, 4, 5]);
        assert_eq!(timing.counts_up_to(&[Duration::from_micros(10)]), [0]);
    }

    #[test]
    fn utilization_stays_within_bounds() {
        let mut stats = Stats::new();
        assert_eq!(stats.utilization(2), 0.0);
        stats.record_run(0, Duration::from_secs(3600));
        assert_eq!(stats.utilization(2), 1.0);
    }
}
