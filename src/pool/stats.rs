//! What the pool measures of itself: run and wait times, completions, utilization.

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// A histogram in milliseconds, as Piscina reports `runTime` and `waitTime`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// Recorded under the scheduler's lock, which each worker takes anyway between jobs,
/// so the figures cost no lock of their own.
pub struct Stats {
    started: Instant,
    /// Nanoseconds each job spent on a thread.
    run_time: Histogram<u64>,
    /// Nanoseconds each job waited between `submit` and a thread picking it up.
    wait_time: Histogram<u64>,
    busy: Duration,
    completed: u64,
}

const NANOS_PER_MS: f64 = 1e6;

fn summarize(histogram: &Histogram<u64>) -> Summary {
    if histogram.is_empty() {
        return Summary::default();
    }
    let ms = |nanos: u64| nanos as f64 / NANOS_PER_MS;
    Summary {
        count: histogram.len(),
        mean: histogram.mean() / NANOS_PER_MS,
        stddev: histogram.stdev() / NANOS_PER_MS,
        min: ms(histogram.min()),
        max: ms(histogram.max()),
        p50: ms(histogram.value_at_quantile(0.5)),
        p90: ms(histogram.value_at_quantile(0.9)),
        p99: ms(histogram.value_at_quantile(0.99)),
    }
}

fn record(histogram: &mut Histogram<u64>, duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX / 2);
    // An auto-resizing histogram refuses only values past u64's range, excluded above.
    histogram
        .record(nanos.max(1))
        .expect("an auto-resizing histogram takes any u64");
}

impl Stats {
    pub fn new() -> Self {
        // Two significant digits (percentiles within 1 %), auto-resizing: any duration
        // fits, and a pool's histograms stay a few KiB.
        let histogram = || Histogram::new(2).expect("2 significant digits is a valid precision");
        Self {
            started: Instant::now(),
            run_time: histogram(),
            wait_time: histogram(),
            busy: Duration::ZERO,
            completed: 0,
        }
    }

    pub fn record_wait(&mut self, waited: Duration) {
        record(&mut self.wait_time, waited);
    }

    pub fn record_run(&mut self, ran: Duration) {
        record(&mut self.run_time, ran);
        self.busy += ran;
        self.completed += 1;
    }

    pub fn completed(&self) -> u64 {
        self.completed
    }

    pub fn run_time(&self) -> Summary {
        summarize(&self.run_time)
    }

    pub fn wait_time(&self) -> Summary {
        summarize(&self.wait_time)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_in_milliseconds() {
        let mut stats = Stats::new();
        for ms in [1, 2, 3, 4, 100] {
            stats.record_run(Duration::from_millis(ms));
        }
        let run = stats.run_time();
        assert_eq!(run.count, 5);
        assert_eq!(stats.completed(), 5);
        assert!((run.min - 1.0).abs() < 0.02, "{run:?}");
        assert!((run.max - 100.0).abs() < 1.0, "{run:?}");
        assert!((run.p50 - 3.0).abs() < 0.03, "{run:?}");
        assert!((run.mean - 22.0).abs() < 0.3, "{run:?}");
        assert_eq!(stats.wait_time(), Summary::default());
    }

    #[test]
    fn utilization_stays_within_bounds() {
        let mut stats = Stats::new();
        assert_eq!(stats.utilization(2), 0.0);
        stats.record_run(Duration::from_secs(3600));
        assert_eq!(stats.utilization(2), 1.0);
    }
}
