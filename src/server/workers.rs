//! The background loops (token refresher, delivery worker, key rotation, session sweeper,
//! integrity sweep, data keys) run supervised: a panic in one round is logged with its cause and the loop goes on with
//! the next. Each loop beats a heartbeat as it makes progress, and `/readyz` reports a loop
//! that has gone quiet for longer than its rounds take.

use futures::FutureExt;
use std::{
    any::Any,
    collections::BTreeMap,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// How much longer than its period a round may take (slow providers, a large rotation
/// batch) before its loop counts as stalled.
const SLOW_ROUND: Duration = Duration::from_secs(600);

/// The pause after a round that panicked, so a loop that panics every round does not spin.
const AFTER_PANIC: Duration = Duration::from_secs(1);

/// The heartbeats of this server's background loops.
#[derive(Clone, Default)]
pub struct Workers(Arc<Mutex<BTreeMap<&'static str, Beat>>>);

#[derive(Clone, Copy)]
struct Beat {
    last: Instant,
    quiet_limit: Duration,
}

/// One loop's handle on its heartbeat: cheap to clone, passed to every round.
#[derive(Clone)]
pub struct Heartbeat {
    workers: Workers,
    name: &'static str,
}

impl Heartbeat {
    /// Says the loop is making progress; long rounds call it after each item.
    pub fn beat(&self) {
        if let Some(b) = self.workers.0.lock().unwrap_or_else(|p| p.into_inner()).get_mut(self.name) {
            b.last = Instant::now();
        }
    }
}

impl Workers {
    /// Registers a loop whose healthy rounds take at most `period` each.
    pub fn heartbeat(&self, name: &'static str, period: Duration) -> Heartbeat {
        let beat = Beat { last: Instant::now(), quiet_limit: period.saturating_add(SLOW_ROUND) };
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(name, beat);
        Heartbeat { workers: self.clone(), name }
    }

    /// The loops that have not beaten within their limit, by name.
    pub fn stalled(&self) -> Vec<&'static str> {
        self.stalled_at(Instant::now())
    }

    fn stalled_at(&self, now: Instant) -> Vec<&'static str> {
        let beats = self.0.lock().unwrap_or_else(|p| p.into_inner());
        beats.iter().filter(|(_, b)| now.saturating_duration_since(b.last) > b.quiet_limit).map(|(name, _)| *name).collect()
    }
}

/// Starts a supervised loop on the runtime: `round` runs again and again (each round does
/// its own waiting), a panic inside it is logged and survived, and every completed round beats.
pub fn spawn<F, Fut>(workers: &Workers, name: &'static str, period: Duration, round: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut(Heartbeat) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(supervise(workers.heartbeat(name, period), round))
}

async fn supervise<F, Fut>(heartbeat: Heartbeat, mut round: F)
where
    F: FnMut(Heartbeat) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        match survive(round(heartbeat.clone())).await {
            Ok(()) => heartbeat.beat(),
            Err(cause) => {
                tracing::error!(worker = heartbeat.name, %cause, "a background round panicked; the worker goes on");
                tokio::time::sleep(AFTER_PANIC).await;
            }
        }
    }
}

/// Runs `work`, turning a panic inside it into `Err` with the panic's message, so one bad
/// item (a delivery, a refresh) is released and recorded instead of taking its loop down.
pub async fn survive<T>(work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work).catch_unwind().await.map_err(|panic| panic_message(&*panic))
}

/// What a panic said, when it said it with a string (as `panic!`, `expect` and overflow do).
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_panicking_round_is_survived_and_the_loop_goes_on() {
        let workers = Workers::default();
        let rounds = Arc::new(AtomicU32::new(0));
        let counted = rounds.clone();
        let task = spawn(&workers, "test", Duration::from_secs(1), move |_| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("round one fails");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        for _ in 0..400 {
            if rounds.load(Ordering::SeqCst) >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(rounds.load(Ordering::SeqCst) >= 3, "the loop went on after the panic");
        assert!(!task.is_finished());
        task.abort();
    }

    #[tokio::test]
    async fn survive_reports_the_cause() {
        assert_eq!(survive(async { 7 }).await, Ok(7));
        let overflow = survive(async { i32::MAX.checked_add(1).expect("no room for one more") }).await;
        assert_eq!(overflow, Err("no room for one more".to_owned()));
        let formatted = survive(async { panic!("item {}", 42) }).await;
        assert_eq!(formatted, Err::<(), _>("item 42".to_owned()));
    }

    #[test]
    fn a_loop_quiet_for_longer_than_its_rounds_is_stalled() {
        let workers = Workers::default();
        let beat = workers.heartbeat("delivery", Duration::from_secs(5));
        workers.heartbeat("refresher", Duration::from_secs(3600));
        let now = Instant::now();
        assert!(workers.stalled_at(now).is_empty());
        assert_eq!(workers.stalled_at(now + Duration::from_secs(700)), vec!["delivery"]);
        beat.beat();
        assert!(workers.stalled_at(Instant::now() + Duration::from_secs(500)).is_empty(), "a beat resets the clock");
    }
}
