//! Client-side rate limiting: a token bucket (client-go's `flowcontrol` QPS/burst).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateLimit;

/// A token bucket: `burst` tokens, refilled at `qps` per second; each request takes one and
/// waits for it when the bucket is empty.
#[derive(Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        TokenBucket {
            qps: if limit.qps > 0.0 { limit.qps } else { f64::MAX },
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token, waiting until one is available. Waiters queue in call order because
    /// each reserves its token before sleeping.
    pub async fn acquire(&self) {
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let elapsed = now.duration_since(state.1).as_secs_f64();
            state.0 = (state.0 + elapsed * self.qps).min(self.burst);
            state.1 = now;
            state.0 -= 1.0;
            if state.0 >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-state.0 / self.qps)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_passes_at_once_then_requests_are_spaced_by_qps() {
        let bucket = TokenBucket::new(RateLimit { qps: 2.0, burst: 3 });
        let start = Instant::now();
        for _ in 0..3 {
            bucket.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        bucket.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        bucket.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_up_to_burst_only() {
        let bucket = TokenBucket::new(RateLimit { qps: 1.0, burst: 2 });
        bucket.acquire().await;
        bucket.acquire().await;
        tokio::time::advance(Duration::from_secs(100)).await;
        let start = Instant::now();
        bucket.acquire().await;
        bucket.acquire().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        bucket.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
