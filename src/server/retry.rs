//! When to try again after a failure that may pass (a provider's 5xx, 429 or timeout): the
//! one backoff policy of the token refresher and the delivery worker.

use rand::Rng;
use std::time::Duration;

/// The longest wait before the jitter: an hour.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Exponential backoff for the `attempt`-th failure in a row (1-based): `base`, doubling
/// each time, at most an hour, with ±20 % jitter so instances and platforms do not retry in
/// lockstep; never less than what the provider's `Retry-After` asks.
pub fn backoff(base: Duration, attempt: i32, retry_after: Option<Duration>) -> Duration {
    let factor = 1u32 << attempt.clamp(1, 12).saturating_sub(1);
    let wait = base.saturating_mul(factor).min(MAX_WAIT).mul_f64(rand::thread_rng().gen_range(0.8..1.2));
    wait.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_an_hour_and_honours_retry_after() {
        let base = Duration::from_secs(15);
        let first = backoff(base, 1, None).as_secs_f64();
        assert!((12.0..=18.0).contains(&first), "{first}");
        let third = backoff(base, 3, None).as_secs_f64();
        assert!((48.0..=72.0).contains(&third), "{third}");
        assert!(backoff(base, 40, None) <= Duration::from_secs(4320));
        assert_eq!(backoff(Duration::from_secs(10), 1, Some(Duration::from_secs(120))), Duration::from_secs(120));
    }
}
