//! The reflector's backoff between failing list-and-watch cycles: client-go's exponential
//! backoff manager (800 ms doubling to a 30 s cap, with jitter, reset after 2 minutes of
//! health), on tokio's clock.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Backoff settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffConfig {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
    /// After this long without a backoff, the next one starts from `initial` again.
    pub reset_after: Duration,
    /// Each delay is stretched by a random factor in `[1, 1 + jitter)` (then capped).
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(800),
            max: Duration::from_secs(30),
            reset_after: Duration::from_secs(120),
            jitter: 1.0,
        }
    }
}

/// Exponential backoff state.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    next: Duration,
    last: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Backoff {
            next: config.initial,
            config,
            last: None,
        }
    }

    /// The delay to wait now, advancing the exponent.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) > self.config.reset_after)
        {
            self.next = self.config.initial;
        }
        self.last = Some(now);
        let base = self.next;
        self.next = (self.next * 2).min(self.config.max);
        let factor = 1.0 + rand::thread_rng().gen_range(0.0..=self.config.jitter.max(0.0));
        base.mul_f64(factor).min(self.config.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn delays_double_to_the_cap_with_jitter_and_reset_after_health() {
        let mut backoff = Backoff::new(BackoffConfig::default());
        let mut bases = Vec::new();
        for _ in 0..8 {
            bases.push(backoff.next_delay());
        }
        let expected = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0];
        for (delay, base) in bases.iter().zip(expected) {
            let base = Duration::from_secs_f64(base);
            assert!(
                *delay >= base.min(Duration::from_secs(30)),
                "{delay:?} < {base:?}"
            );
            assert!(
                *delay <= (base * 2).min(Duration::from_secs(30)),
                "{delay:?}"
            );
        }
        tokio::time::advance(Duration::from_secs(121)).await;
        let after_health = backoff.next_delay();
        assert!(
            after_health <= Duration::from_millis(1600),
            "{after_health:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_jitter_delays_are_exact() {
        let mut backoff = Backoff::new(BackoffConfig {
            jitter: 0.0,
            ..BackoffConfig::default()
        });
        assert_eq!(backoff.next_delay(), Duration::from_millis(800));
        assert_eq!(backoff.next_delay(), Duration::from_millis(1600));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(backoff.next_delay(), Duration::from_millis(3200));
    }
}
