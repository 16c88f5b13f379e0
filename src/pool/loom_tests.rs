//! The protocol of `README.md` under loom, which runs each model in every interleaving of
//! its threads (up to a bound of preemptions): every accepted job is delivered exactly once,
//! the exit is reported once, and no thread sleeps through work (loom fails a model in
//! which `join` would wait forever). Run with:
//! `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.

use super::*;
use loom::sync::{Condvar as ModelCondvar, Mutex as ModelMutex};

#[derive(Default)]
struct Record {
    /// (id, finished) per delivery: finished or not run.
    delivered: Vec<(u32, bool)>,
    exits: usize,
}

#[derive(Clone, Default)]
struct Recorder(Arc<(ModelMutex<Record>, ModelCondvar)>);

impl Sink<u32> for Recorder {
    fn deliver(&self, id: u32, outcome: Outcome<u32>) {
        let finished = match outcome {
            Outcome::Finished(value) => {
                assert_eq!(value, id);
                true
            }
            Outcome::NotRun => false,
            Outcome::Panicked(message) => panic!("job {id} panicked: {message}"),
        };
        self.0 .0.lock().unwrap().delivered.push((id, finished));
        self.0 .1.notify_all();
    }

    fn threads_exited(&self) {
        self.0 .0.lock().unwrap().exits += 1;
    }

    fn fault(&self, message: String) {
        panic!("fault: {message}");
    }
}

impl Recorder {
    /// Waits for `count` deliveries, before any close or destroy could wake a sleeping
    /// thread: if a submit's wake-up were lost, this would wait forever, and loom fails
    /// the model as a deadlock.
    fn wait_for(&self, count: usize) {
        let (record, delivered) = &*self.0;
        let mut record = record.lock().unwrap();
        while record.delivered.len() < count {
            record = delivered.wait(record).unwrap();
        }
    }

    /// Each of `ids` delivered exactly once, nothing else, and the exit reported once.
    fn check(&self, ids: &[u32]) -> Vec<(u32, bool)> {
        let record = self.0 .0.lock().unwrap();
        let mut delivered = record.delivered.clone();
        delivered.sort();
        let mut seen: Vec<u32> = delivered.iter().map(|&(id, _)| id).collect();
        seen.dedup();
        assert_eq!(
            seen.len(),
            delivered.len(),
            "a job delivered twice: {delivered:?}"
        );
        assert_eq!(seen, ids, "delivered {delivered:?}");
        assert_eq!(record.exits, 1, "the exit reported {} times", record.exits);
        delivered
    }
}

fn engine(threads: usize) -> (Engine<u32, Recorder>, Recorder) {
    let recorder = Recorder::default();
    let config = Config {
        max_threads: threads,
        min_threads: threads,
        idle_timeout: Duration::from_secs(3600),
        max_queue: usize::MAX,
        nice_increment: 0,
    };
    (Engine::new(config, recorder.clone()), recorder)
}

fn job(id: u32, token: Option<Arc<CancelToken>>) -> Job<u32> {
    Job {
        id,
        priority: 0.0,
        token,
        label: 0,
        work: Box::new(move |_| id),
    }
}

fn model(test: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(test);
}

#[test]
fn loom_a_submit_racing_a_thread_going_to_sleep_is_run() {
    model(|| {
        let (engine, recorder) = engine(1);
        assert!(engine.submit(vec![job(1, None)]).is_empty());
        recorder.wait_for(1);
        engine.close();
        engine.join();
        assert_eq!(recorder.check(&[1]), [(1, true)]);
    });
}

#[test]
fn loom_two_threads_share_two_jobs_submitted_apart() {
    model(|| {
        let (engine, recorder) = engine(2);
        assert!(engine.submit(vec![job(1, None)]).is_empty());
        assert!(engine.submit(vec![job(2, None)]).is_empty());
        recorder.wait_for(2);
        engine.close();
        engine.join();
        assert_eq!(recorder.check(&[1, 2]), [(1, true), (2, true)]);
    });
}

#[test]
fn loom_a_cancel_racing_a_start_delivers_once() {
    model(|| {
        let (engine, recorder) = engine(1);
        let engine = Arc::new(engine);
        let token = Arc::new(CancelToken::new());
        assert!(engine.submit(vec![job(1, Some(token.clone()))]).is_empty());
        let canceller = {
            let engine = Arc::clone(&engine);
            loom::thread::spawn(move || engine.cancel(1, &token))
        };
        let cancelled_while = canceller.join().unwrap();
        recorder.wait_for(1);
        engine.close();
        engine.join();
        let delivered = recorder.check(&[1]);
        // Cancelled in the queue: never run. Otherwise it ran to its end.
        assert_eq!(delivered[0].1, cancelled_while != CancelledWhile::Queued);
    });
}

#[test]
fn loom_a_close_racing_a_submit_refuses_or_runs_each_job() {
    model(|| {
        let (engine, recorder) = engine(1);
        let engine = Arc::new(engine);
        let closer = {
            let engine = Arc::clone(&engine);
            loom::thread::spawn(move || engine.close())
        };
        let refused = engine.submit(vec![job(1, None)]);
        closer.join().unwrap();
        engine.join();
        if refused.is_empty() {
            assert_eq!(recorder.check(&[1]), [(1, true)]);
        } else {
            assert_eq!(refused[0].1, Refusal::Closed);
            recorder.check(&[]);
        }
    });
}

#[test]
fn loom_a_destroy_racing_a_finish_delivers_once() {
    model(|| {
        let (engine, recorder) = engine(1);
        let engine = Arc::new(engine);
        assert!(engine.submit(vec![job(1, None)]).is_empty());
        let destroyer = {
            let engine = Arc::clone(&engine);
            loom::thread::spawn(move || engine.destroy())
        };
        destroyer.join().unwrap();
        engine.join();
        recorder.check(&[1]);
    });
}

/// A job that splits into two parts; it returns its id only if both ran.
fn splitting_job(id: u32) -> Job<u32> {
    Job {
        work: Box::new(move |ctx| {
            let mut parts = [false; 2];
            ctx.for_each(&mut parts, |part| *part = true);
            if parts == [true, true] {
                id
            } else {
                0
            }
        }),
        ..job(id, None)
    }
}

#[test]
fn loom_parts_lent_to_an_idle_thread_each_run_once_before_the_job_ends() {
    model(|| {
        let (engine, recorder) = engine(2);
        assert!(engine.submit(vec![splitting_job(1)]).is_empty());
        recorder.wait_for(1);
        engine.close();
        engine.join();
        assert_eq!(recorder.check(&[1]), [(1, true)]);
    });
}

#[test]
fn loom_a_job_submitted_while_parts_are_lent_is_run() {
    model(|| {
        let (engine, recorder) = engine(2);
        assert!(engine.submit(vec![splitting_job(1)]).is_empty());
        assert!(engine.submit(vec![job(2, None)]).is_empty());
        recorder.wait_for(2);
        engine.close();
        engine.join();
        assert_eq!(recorder.check(&[1, 2]), [(1, true), (2, true)]);
    });
}
