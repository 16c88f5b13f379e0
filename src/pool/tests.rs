use super::*;
use crossbeam_channel::{unbounded as channel, Receiver, Sender};
use std::thread;

/// Records what the engine delivers, in order, for the test to wait on.
#[derive(Clone)]
struct Recorder(Sender<Event>);

#[derive(Debug, PartialEq)]
enum Event {
    Done(u32, Result<u64, String>),
    NotRun(u32),
    Exited,
}

impl Sink<u64> for Recorder {
    fn deliver(&self, id: u32, outcome: Outcome<u64>) {
        let event = match outcome {
            Outcome::Finished(value) => Event::Done(id, Ok(value)),
            Outcome::Panicked(message) => Event::Done(id, Err(message)),
            Outcome::NotRun => Event::NotRun(id),
        };
        let _ = self.0.send(event);
    }
    fn threads_exited(&self) {
        let _ = self.0.send(Event::Exited);
    }
    fn fault(&self, message: String) {
        panic!("unexpected fault: {message}");
    }
}

fn engine(max_threads: usize, min_threads: usize) -> (Engine<u64, Recorder>, Receiver<Event>) {
    engine_with(Config {
        max_threads,
        min_threads,
        idle_timeout: Duration::from_secs(60),
        max_queue: usize::MAX,
        nice_increment: 0,
    })
}

fn engine_with(config: Config) -> (Engine<u64, Recorder>, Receiver<Event>) {
    let (sender, receiver) = channel();
    (Engine::new(config, Recorder(sender)), receiver)
}

fn job(id: u32, work: impl FnOnce(&Ctx) -> u64 + Send + 'static) -> Job<u64> {
    Job {
        id,
        priority: 0.0,
        token: None,
        label: 0,
        work: Box::new(work),
    }
}

fn next(events: &Receiver<Event>) -> Event {
    events
        .recv_timeout(Duration::from_secs(10))
        .expect("the engine delivered nothing within 10 s")
}

/// A job that holds its thread until the returned sender is used (or dropped).
fn gate(id: u32) -> (Job<u64>, Sender<()>, Receiver<()>) {
    let (open, opened) = channel::<()>();
    let (started_tx, started) = channel::<()>();
    let job = job(id, move |_| {
        started_tx.send(()).unwrap();
        let _ = opened.recv();
        id as u64
    });
    (job, open, started)
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn every_job_is_delivered_exactly_once() {
    let (engine, events) = engine(4, 1);
    let jobs = (0..10_000).map(|i| job(i, move |_| i as u64 * 2)).collect();
    assert!(engine.submit(jobs).is_empty());
    let mut seen = vec![false; 10_000];
    for _ in 0..10_000 {
        match next(&events) {
            Event::Done(id, Ok(value)) => {
                assert_eq!(value, id as u64 * 2);
                assert!(
                    !std::mem::replace(&mut seen[id as usize], true),
                    "{id} twice"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    wait_until("all counted", || engine.completed() == 10_000);
    assert_eq!(engine.times().run.summary().count, 10_000);
    assert_eq!(engine.times().wait.summary().count, 10_000);
    assert_eq!(engine.queue_size(), 0);
}

#[test]
fn higher_priority_runs_first_and_fifo_within_a_priority() {
    let (engine, events) = engine(1, 1);
    let (blocker, open, started) = gate(0);
    engine.submit(vec![blocker]);
    started.recv().unwrap();
    let order = [(1, 0.0), (2, 1.0), (3, 0.0), (4, 10.0), (5, 1.0), (6, -1.0)];
    let jobs = order
        .iter()
        .map(|&(id, priority)| Job {
            priority,
            ..job(id, move |_| id as u64)
        })
        .collect();
    engine.submit(jobs);
    assert_eq!(engine.queue_size(), 6);
    open.send(()).unwrap();
    let ran: Vec<u32> = (0..7)
        .map(|_| match next(&events) {
            Event::Done(id, _) => id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(ran, vec![0, 4, 2, 5, 1, 3, 6]);
}

#[test]
fn a_job_cancelled_while_queued_never_runs_and_is_delivered_at_once() {
    let (engine, events) = engine(1, 1);
    let (blocker, open, started) = gate(0);
    engine.submit(vec![blocker]);
    started.recv().unwrap();
    let token = Arc::new(CancelToken::new());
    let ran = Arc::new(AtomicBool::new(false));
    let ran_in_job = Arc::clone(&ran);
    engine.submit(vec![Job {
        token: Some(Arc::clone(&token)),
        ..job(1, move |_| {
            ran_in_job.store(true, Ordering::SeqCst);
            1
        })
    }]);
    assert_eq!(engine.queue_size(), 1);
    assert_eq!(engine.cancel(1, &token), CancelledWhile::Queued);
    assert_eq!(next(&events), Event::NotRun(1));
    assert_eq!(engine.queue_size(), 0);
    assert_eq!(engine.cancel(1, &token), CancelledWhile::Settled);
    open.send(()).unwrap();
    assert_eq!(next(&events), Event::Done(0, Ok(0)));
    engine.submit(vec![job(2, |_| 2)]);
    assert_eq!(next(&events), Event::Done(2, Ok(2)));
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(engine.completed(), 2);
}

#[test]
fn a_running_job_sees_its_cancellation_and_frees_the_thread() {
    let (engine, events) = engine(1, 1);
    let token = Arc::new(CancelToken::new());
    let (started_tx, started) = channel();
    engine.submit(vec![Job {
        token: Some(Arc::clone(&token)),
        ..job(1, move |ctx| {
            started_tx.send(()).unwrap();
            let mut spins = 0;
            while !ctx.cancelled() {
                spins += 1;
                thread::yield_now();
            }
            spins
        })
    }]);
    started.recv().unwrap();
    assert_eq!(engine.cancel(1, &token), CancelledWhile::Running);
    assert!(matches!(next(&events), Event::Done(1, Ok(_))));
    engine.submit(vec![job(2, |_| 2)]);
    assert_eq!(next(&events), Event::Done(2, Ok(2)));
}

#[test]
fn a_panic_is_delivered_and_the_pool_goes_on() {
    let (engine, events) = engine(1, 1);
    engine.submit(vec![job(1, |_| panic!("boom {}", 42))]);
    assert_eq!(next(&events), Event::Done(1, Err("boom 42".into())));
    engine.submit(vec![job(2, |_| 2)]);
    assert_eq!(next(&events), Event::Done(2, Ok(2)));
    assert_eq!(engine.threads().len(), 1);
}

#[test]
fn threads_grow_on_demand_to_the_maximum_and_shrink_to_the_minimum() {
    let (engine, events) = engine_with(Config {
        max_threads: 3,
        min_threads: 1,
        idle_timeout: Duration::from_millis(50),
        max_queue: usize::MAX,
        nice_increment: 0,
    });
    wait_until("the minimum has started", || engine.threads().len() == 1);
    let gates: Vec<_> = (0..5).map(gate).collect();
    let mut opens = Vec::new();
    let mut starts = Vec::new();
    let jobs = gates
        .into_iter()
        .map(|(job, open, started)| {
            opens.push(open);
            starts.push(started);
            job
        })
        .collect();
    engine.submit(jobs);
    assert_eq!(engine.threads().len(), 3, "never more than max_threads");
    for started in &starts[..3] {
        started.recv().unwrap();
    }
    assert_eq!(engine.queue_size(), 2);
    drop(opens);
    for _ in 0..5 {
        assert!(matches!(next(&events), Event::Done(..)));
    }
    wait_until("idle threads above the minimum left", || {
        engine.threads().len() == 1
    });
    thread::sleep(Duration::from_millis(150));
    assert_eq!(engine.threads().len(), 1, "the minimum stays");
}

#[test]
fn max_queue_bounds_the_jobs_waiting_beyond_free_threads() {
    let (engine, events) = engine_with(Config {
        max_threads: 1,
        min_threads: 1,
        idle_timeout: Duration::from_secs(60),
        max_queue: 2,
        nice_increment: 0,
    });
    let (blocker, open, started) = gate(0);
    let refused = engine.submit(vec![blocker]);
    assert!(refused.is_empty());
    started.recv().unwrap();
    let refused = engine.submit((1..5).map(|id| job(id, move |_| id as u64)).collect());
    let refused_ids: Vec<_> = refused.iter().map(|(job, why)| (job.id, *why)).collect();
    assert_eq!(
        refused_ids,
        vec![(3, Refusal::QueueFull), (4, Refusal::QueueFull)]
    );
    open.send(()).unwrap();
    for id in 0..3 {
        assert_eq!(next(&events), Event::Done(id, Ok(id as u64)));
    }
}

#[test]
fn max_queue_zero_takes_a_job_only_when_a_thread_is_free() {
    let (engine, events) = engine_with(Config {
        max_threads: 2,
        min_threads: 0,
        idle_timeout: Duration::from_secs(60),
        max_queue: 0,
        nice_increment: 0,
    });
    let (first, open_first, first_started) = gate(0);
    let (second, open_second, second_started) = gate(1);
    assert!(engine.submit(vec![first, second]).is_empty());
    first_started.recv().unwrap();
    second_started.recv().unwrap();
    let refused = engine.submit(vec![job(2, |_| 2)]);
    assert_eq!(refused[0].1, Refusal::QueueFull);
    open_first.send(()).unwrap();
    assert_eq!(next(&events), Event::Done(0, Ok(0)));
    wait_until("a thread is free", || {
        engine.submit(vec![job(3, |_| 3)]).is_empty()
    });
    assert_eq!(next(&events), Event::Done(3, Ok(3)));
    drop(open_second);
}

#[test]
fn close_finishes_queued_jobs_then_refuses_and_reports_the_exit() {
    let (engine, events) = engine(2, 0);
    engine.submit((0..100).map(|id| job(id, move |_| id as u64)).collect());
    engine.close();
    let refused = engine.submit(vec![job(100, |_| 0)]);
    assert_eq!(refused[0].1, Refusal::Closed);
    let mut done = 0;
    loop {
        match next(&events) {
            Event::Done(_, Ok(_)) => done += 1,
            Event::Exited => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(done, 100);
    engine.join();
    assert!(engine.threads().is_empty());
}

#[test]
fn closing_a_pool_without_threads_reports_the_exit_at_once() {
    let (engine, events) = engine(2, 0);
    engine.close();
    assert_eq!(next(&events), Event::Exited);
    engine.destroy();
    assert!(events.recv_timeout(Duration::from_millis(50)).is_err());
}

#[test]
fn destroy_drops_queued_jobs_and_cancels_running_ones() {
    let (engine, events) = engine(1, 1);
    let (started_tx, started) = channel();
    engine.submit(vec![job(0, move |ctx| {
        started_tx.send(()).unwrap();
        while !ctx.cancelled() {
            thread::yield_now();
        }
        7
    })]);
    started.recv().unwrap();
    engine.submit((1..4).map(|id| job(id, move |_| id as u64)).collect());
    engine.destroy();
    let mut events: Vec<Event> = (0..5).map(|_| next(&events)).collect();
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        vec![
            Event::Done(0, Ok(7)),
            Event::Exited,
            Event::NotRun(1),
            Event::NotRun(2),
            Event::NotRun(3)
        ]
    );
}

#[test]
fn closing_with_the_queue_dropped_lets_the_running_job_finish() {
    let (engine, events) = engine(1, 1);
    let (blocker, open, started) = gate(0);
    engine.submit(vec![blocker]);
    started.recv().unwrap();
    engine.submit((1..4).map(|id| job(id, move |_| id as u64)).collect());
    engine.close_dropping_queued();
    for id in 1..4 {
        assert_eq!(next(&events), Event::NotRun(id));
    }
    open.send(()).unwrap();
    assert_eq!(next(&events), Event::Done(0, Ok(0)), "not cancelled");
    assert_eq!(next(&events), Event::Exited);
    // A plain close after it gives up nothing more, and reports nothing twice.
    engine.close();
    assert!(events.recv_timeout(Duration::from_millis(50)).is_err());
}

#[test]
fn times_are_kept_by_label() {
    let (engine, events) = engine(1, 1);
    let labelled = |id, label, millis| Job {
        label,
        ..job(id, move |_| {
            thread::sleep(Duration::from_millis(millis));
            0
        })
    };
    engine.submit(vec![
        labelled(0, 2, 20),
        labelled(1, 0, 1),
        labelled(2, 2, 20),
    ]);
    for _ in 0..3 {
        next(&events);
    }
    wait_until("all counted", || engine.completed() == 3);
    let by_label = engine.times_by_label();
    assert_eq!(by_label.len(), 3);
    let (zero, one, two) = (
        by_label[0].run.summary(),
        by_label[1].run.summary(),
        by_label[2].run.summary(),
    );
    assert_eq!((zero.count, one.count, two.count), (1, 0, 2));
    assert!(two.sum >= 40.0 && two.min >= 19.0, "{two:?}");
    assert_eq!(by_label[2].wait.summary().count, 2);
    assert_eq!(engine.times().run.summary().count, 3);
}

#[test]
fn threads_are_numbered_in_the_order_they_started() {
    let (engine, events) = engine_with(Config {
        max_threads: 2,
        min_threads: 0,
        idle_timeout: Duration::from_millis(30),
        max_queue: usize::MAX,
        nice_increment: 0,
    });
    assert!(engine.threads().is_empty());
    let (first, open_first, first_started) = gate(0);
    let (second, open_second, second_started) = gate(1);
    engine.submit(vec![first, second]);
    first_started.recv().unwrap();
    second_started.recv().unwrap();
    let mut numbers = engine.threads();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    drop((open_first, open_second));
    next(&events);
    next(&events);
    wait_until("idle threads left", || engine.threads().is_empty());
    let (third, open_third, third_started) = gate(2);
    engine.submit(vec![third]);
    third_started.recv().unwrap();
    assert_eq!(engine.threads(), [3], "numbers are never reused");
    drop(open_third);
}

#[test]
fn dropping_the_engine_stops_and_joins_its_threads() {
    let (engine, events) = engine(2, 2);
    wait_until("threads started", || engine.threads().len() == 2);
    drop(engine);
    assert_eq!(next(&events), Event::Exited);
}

/// Waits (up to 10 s) until `count` has reached `at_least`.
fn rendezvous(count: &std::sync::atomic::AtomicUsize, at_least: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::SeqCst) < at_least {
        if Instant::now() > deadline {
            return false;
        }
        thread::yield_now();
    }
    true
}

#[test]
fn for_each_lends_an_idle_thread_and_runs_every_item_once() {
    let (engine, events) = engine(2, 2);
    engine.submit(vec![job(1, |ctx| {
        let running = std::sync::atomic::AtomicUsize::new(0);
        let mut items: Vec<(usize, bool)> = (0..2).map(|i| (i, false)).collect();
        // Each of the two parts waits for the other: only two threads at once finish them.
        ctx.for_each(&mut items, |(_, met)| {
            running.fetch_add(1, Ordering::SeqCst);
            *met = rendezvous(&running, 2);
        });
        items.iter().filter(|(_, met)| *met).count() as u64
    })]);
    assert_eq!(next(&events), Event::Done(1, Ok(2)));
}

#[test]
fn for_each_never_runs_on_more_threads_than_the_pool_has() {
    for max_threads in [1, 2, 3] {
        let (engine, events) = engine(max_threads, 1);
        let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let jobs = (0..4)
            .map(|id| {
                let threads = Arc::clone(&threads);
                job(id, move |ctx| {
                    let mut items = vec![0u64; 64];
                    ctx.for_each(&mut items, |item| {
                        threads.lock().unwrap().insert(thread::current().id());
                        thread::sleep(Duration::from_micros(200));
                        *item = 1;
                    });
                    items.iter().sum()
                })
            })
            .collect();
        engine.submit(jobs);
        for _ in 0..4 {
            assert!(matches!(next(&events), Event::Done(_, Ok(64))));
        }
        assert!(threads.lock().unwrap().len() <= max_threads);
        assert!(engine.threads().len() <= max_threads);
    }
}

#[test]
fn a_queued_job_starts_when_a_lent_thread_finishes_its_part() {
    let (engine, events) = engine(2, 2);
    let (started_tx, started) = channel::<(usize, thread::ThreadId)>();
    let releases: Vec<(Sender<()>, Receiver<()>)> = (0..4).map(|_| channel()).collect();
    let waits: Vec<Receiver<()>> = releases.iter().map(|(_, r)| r.clone()).collect();
    let (owner_tx, owner) = channel();
    let started_tx_for_queued = started_tx.clone();
    engine.submit(vec![job(1, move |ctx| {
        owner_tx.send(thread::current().id()).unwrap();
        let mut items: Vec<usize> = (0..4).collect();
        ctx.for_each(&mut items, |&mut i| {
            started_tx.send((i, thread::current().id())).unwrap();
            waits[i].recv().unwrap();
        });
        1
    })]);
    let owner = owner.recv().unwrap();
    let first = [started.recv().unwrap(), started.recv().unwrap()];
    let (helped, _) = *first
        .iter()
        .find(|(_, thread)| *thread != owner)
        .expect("the idle thread took a part");
    let queued_started = started_tx_for_queued;
    engine.submit(vec![job(2, move |_| {
        queued_started
            .send((usize::MAX, thread::current().id()))
            .unwrap();
        2
    })]);
    // The helper's part ends while the job's own part still holds its thread: the helper
    // goes to the queued job before taking another part.
    releases[helped].0.send(()).unwrap();
    let (what, _) = started.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        what,
        usize::MAX,
        "the queued job starts before the next part"
    );
    assert_eq!(next(&events), Event::Done(2, Ok(2)));
    for (release, _) in &releases {
        let _ = release.send(());
    }
    assert_eq!(next(&events), Event::Done(1, Ok(1)));
}

#[test]
fn cancelling_a_job_skips_the_parts_not_begun() {
    let (engine, events) = engine(2, 2);
    let token = Arc::new(CancelToken::new());
    let begun = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&begun);
    engine.submit(vec![Job {
        token: Some(Arc::clone(&token)),
        ..job(1, move |ctx| {
            let mut items = vec![(); 10_000];
            ctx.for_each(&mut items, |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_micros(500));
            });
            u64::from(ctx.cancelled())
        })
    }]);
    assert!(rendezvous(&begun, 4));
    engine.cancel(1, &token);
    assert_eq!(next(&events), Event::Done(1, Ok(1)));
    assert!(begun.load(Ordering::SeqCst) < 10_000);
}

#[test]
fn a_panicking_part_fails_its_job_once_the_others_finish() {
    let (engine, events) = engine(2, 2);
    engine.submit(vec![job(1, |ctx| {
        let mut items: Vec<u32> = (0..8).collect();
        ctx.for_each(&mut items, |&mut i| {
            thread::sleep(Duration::from_millis(1));
            assert!(i != 3, "part {i} failed");
        });
        0
    })]);
    assert_eq!(next(&events), Event::Done(1, Err("part 3 failed".into())));
    engine.submit(vec![job(2, |_| 2)]);
    assert_eq!(next(&events), Event::Done(2, Ok(2)));
}

#[test]
fn destroying_the_pool_stops_the_parts_of_a_running_job() {
    let (engine, events) = engine(2, 2);
    let (started_tx, started) = channel();
    engine.submit(vec![job(1, move |ctx| {
        let mut items = vec![(); 4];
        ctx.for_each(&mut items, |_| {
            let _ = started_tx.send(());
            while !ctx.cancelled() {
                thread::yield_now();
            }
        });
        1
    })]);
    started.recv().unwrap();
    started.recv().unwrap();
    drop(engine);
    assert_eq!(next(&events), Event::Done(1, Ok(1)));
}

#[test]
fn an_idle_timeout_past_any_instant_keeps_idle_threads_for_ever() {
    let (engine, events) = engine_with(Config {
        max_threads: 2,
        min_threads: 0,
        idle_timeout: Duration::MAX,
        max_queue: usize::MAX,
        nice_increment: 0,
    });
    engine.submit(vec![job(1, |_| 1), job(2, |_| 2)]);
    for _ in 0..2 {
        assert!(matches!(next(&events), Event::Done(..)));
    }
    thread::sleep(Duration::from_millis(50));
    assert!(!engine.threads().is_empty(), "idle threads stay");
    engine.submit(vec![job(3, |_| 3)]);
    assert_eq!(next(&events), Event::Done(3, Ok(3)));
}

#[test]
#[should_panic(expected = "count of idle threads went below zero")]
fn a_count_going_below_zero_is_a_named_panic_not_a_wrap() {
    one_less(0, "idle threads");
}

#[test]
fn a_relayed_job_is_finished_by_its_relay_which_takes_only_the_jobs_it_wants_in_order() {
    let (engine, events) = engine(1, 0);
    let relay = Arc::new(engine.relay());
    let (taken_tx, taken) = channel::<Vec<u32>>();
    let first_relay = Arc::clone(&relay);
    let mut first = job(1, move |ctx| {
        ctx.relay();
        // What a JS worker does for its thread: finish the job, then take the next ones
        // it can run (label 7) while the best queued job is one of them.
        first_relay.finish(Relayed::running(1, 7), Outcome::Finished(10));
        let mut ids = Vec::new();
        while let Some(next) = first_relay.take_next(|label| label == 7) {
            ids.push(next.id);
            first_relay.finish(next, Outcome::Finished(ids.len() as u64));
        }
        taken_tx.send(ids).unwrap();
        // Dropped: the relay delivered this job.
        999
    });
    first.label = 7;
    let (blocker, open, started) = gate(0);
    engine.submit(vec![blocker]);
    started.recv().unwrap();
    let later = |id: u32, label: usize, priority: f64| {
        let mut queued = job(id, move |_| u64::from(id) * 100);
        queued.label = label;
        queued.priority = priority;
        queued
    };
    let cancelled = Arc::new(CancelToken::new());
    let mut skipped = later(4, 7, 1.0);
    skipped.token = Some(Arc::clone(&cancelled));
    engine.submit(vec![
        first,
        later(2, 7, 0.0),
        later(3, 7, 2.0),
        skipped,
        later(5, 0, 0.0),
        later(6, 7, 0.0),
    ]);
    assert_eq!(engine.cancel(4, &cancelled), CancelledWhile::Queued);
    assert_eq!(next(&events), Event::NotRun(4));
    open.send(()).unwrap();
    assert_eq!(next(&events), Event::Done(0, Ok(0)));
    // Job 3 (priority 2) runs first on the thread; then job 1 relays and takes job 2, and
    // stops at job 5, whose label it does not want; the thread runs it, then job 6.
    assert_eq!(next(&events), Event::Done(3, Ok(300)));
    assert_eq!(next(&events), Event::Done(1, Ok(10)));
    assert_eq!(next(&events), Event::Done(2, Ok(1)));
    assert_eq!(taken.recv().unwrap(), vec![2]);
    assert_eq!(next(&events), Event::Done(5, Ok(500)));
    assert_eq!(next(&events), Event::Done(6, Ok(600)));
    assert_eq!(engine.completed(), 6);
}
