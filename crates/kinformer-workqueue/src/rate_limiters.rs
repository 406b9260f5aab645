//! Rate limiters that decide how long a retried item waits: per-item exponential backoff, a
//! token bucket, fast-then-slow, a cap, and the maximum of several.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// Decides how long an item waits before it is retried.
pub trait RateLimiter<T>: Send + Sync {
    /// Records one more failure of `item` and returns how long it should wait.
    fn when(&self, item: &T) -> Duration;

    /// Stops tracking `item`, whether it finally succeeded or was given up on.
    fn forget(&self, item: &T);

    /// How many failures of `item` are being tracked.
    fn num_requeues(&self, item: &T) -> usize;
}

/// The limiter client-go's controllers use: the slower of a per-item exponential backoff
/// (5 ms doubling to 1000 s) and an overall token bucket (10 per second, burst of 100).
pub fn default_controller_rate_limiter<T>() -> MaxOfRateLimiter<T>
where
    T: Hash + Eq + Clone + Send + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::default()),
        Box::new(BucketRateLimiter::default()),
    ])
}

/// Waits `base * 2^failures` for each item, capped at a maximum.
///
/// The first failure waits `base`, the next `2 * base`, and so on up to `max`.
pub struct ItemExponentialFailureRateLimiter<T> {
    failures: Mutex<HashMap<T, u32>>,
    base: Duration,
    max: Duration,
}

impl<T> ItemExponentialFailureRateLimiter<T> {
    /// A limiter starting at `base` and doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        ItemExponentialFailureRateLimiter {
            failures: Mutex::new(HashMap::new()),
            base,
            max,
        }
    }
}

impl<T> Default for ItemExponentialFailureRateLimiter<T> {
    /// 5 ms doubling up to 1000 s, the per-item half of client-go's default controller limiter.
    fn default() -> Self {
        ItemExponentialFailureRateLimiter::new(Duration::from_millis(5), Duration::from_secs(1000))
    }
}

impl<T> fmt::Debug for ItemExponentialFailureRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemExponentialFailureRateLimiter")
            .field("base", &self.base)
            .field("max", &self.max)
            .field("tracked", &lock(&self.failures).len())
            .finish()
    }
}

impl<T: Hash + Eq + Clone + Send> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let exponent = {
            let mut failures = lock(&self.failures);
            let count = failures.entry(item.clone()).or_insert(0);
            let exponent = *count;
            *count = count.saturating_add(1);
            exponent
        };
        backoff(self.base, exponent, self.max)
    }

    fn forget(&self, item: &T) {
        lock(&self.failures).remove(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        lock(&self.failures)
            .get(item)
            .map_or(0, |&count| count as usize)
    }
}

/// Retries quickly for the first few failures of an item, then slowly.
pub struct ItemFastSlowRateLimiter<T> {
    failures: Mutex<HashMap<T, usize>>,
    fast: Duration,
    slow: Duration,
    max_fast_attempts: usize,
}

impl<T> ItemFastSlowRateLimiter<T> {
    /// Waits `fast` for the first `max_fast_attempts` failures of an item, `slow` after that.
    pub fn new(fast: Duration, slow: Duration, max_fast_attempts: usize) -> Self {
        ItemFastSlowRateLimiter {
            failures: Mutex::new(HashMap::new()),
            fast,
            slow,
            max_fast_attempts,
        }
    }
}

impl<T> fmt::Debug for ItemFastSlowRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemFastSlowRateLimiter")
            .field("fast", &self.fast)
            .field("slow", &self.slow)
            .field("max_fast_attempts", &self.max_fast_attempts)
            .field("tracked", &lock(&self.failures).len())
            .finish()
    }
}

impl<T: Hash + Eq + Clone + Send> RateLimiter<T> for ItemFastSlowRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let mut failures = lock(&self.failures);
        let count = failures.entry(item.clone()).or_insert(0);
        *count = count.saturating_add(1);
        if *count <= self.max_fast_attempts {
            self.fast
        } else {
            self.slow
        }
    }

    fn forget(&self, item: &T) {
        lock(&self.failures).remove(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        lock(&self.failures).get(item).copied().unwrap_or(0)
    }
}

/// An overall token bucket shared by all items: `burst` retries at once, then `qps` per second.
///
/// Each `when` takes a token; when none is left it reserves the next one and returns how long
/// until it exists, so callers are spread out at the refill rate. It tracks no items, so
/// `num_requeues` is always 0.
pub struct BucketRateLimiter {
    bucket: Mutex<Bucket>,
    qps: f64,
    burst: u32,
}

struct Bucket {
    /// Tokens available; negative when future tokens are already promised.
    tokens: f64,
    last: Instant,
}

impl BucketRateLimiter {
    /// A full bucket holding `burst` tokens and refilling `qps` tokens per second.
    ///
    /// `qps` must be positive and finite ([`Error::InvalidQps`]) and `burst` at least 1
    /// ([`Error::ZeroBurst`]).
    pub fn new(qps: f64, burst: u32) -> Result<Self> {
        if !qps.is_finite() || qps <= 0.0 {
            return Err(Error::InvalidQps { qps });
        }
        if burst == 0 {
            return Err(Error::ZeroBurst);
        }
        Ok(BucketRateLimiter {
            bucket: Mutex::new(Bucket {
                tokens: f64::from(burst),
                last: Instant::now(),
            }),
            qps,
            burst,
        })
    }

    fn reserve(&self) -> Duration {
        let mut bucket = lock(&self.bucket);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.qps).min(f64::from(self.burst));
        bucket.last = now;
        bucket.tokens -= 1.0;
        if bucket.tokens >= 0.0 {
            return Duration::ZERO;
        }
        // Round to whole nanoseconds so that, e.g., one token at 10 per second is exactly
        // 100 ms rather than a float's neighbour of it.
        let nanos = (-bucket.tokens / self.qps * 1e9).round();
        Duration::from_nanos(nanos as u64)
    }
}

impl Default for BucketRateLimiter {
    /// 10 tokens per second with a burst of 100, the overall half of client-go's default
    /// controller limiter.
    fn default() -> Self {
        BucketRateLimiter {
            bucket: Mutex::new(Bucket {
                tokens: 100.0,
                last: Instant::now(),
            }),
            qps: 10.0,
            burst: 100,
        }
    }
}

impl fmt::Debug for BucketRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketRateLimiter")
            .field("qps", &self.qps)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl<T> RateLimiter<T> for BucketRateLimiter {
    fn when(&self, _item: &T) -> Duration {
        self.reserve()
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> usize {
        0
    }
}

/// Consults every limiter it holds and returns the longest wait.
///
/// Every limiter sees every `when`, so each keeps its own count; `forget` reaches them all and
/// `num_requeues` is the largest count any of them reports. With a token bucket inside, the
/// bucket's burst can appear exceeded when other limiters delay some items longer.
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> MaxOfRateLimiter<T> {
    /// Combines `limiters`; with none, every wait is zero.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        MaxOfRateLimiter { limiters }
    }
}

impl<T> fmt::Debug for MaxOfRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<T> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        // No short-circuit: every limiter must record the failure.
        self.limiters
            .iter()
            .map(|limiter| limiter.when(item))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&self, item: &T) {
        for limiter in &self.limiters {
            limiter.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.limiters
            .iter()
            .map(|limiter| limiter.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

/// Caps the wait of another limiter at a maximum.
pub struct WithMaxWaitRateLimiter<T> {
    limiter: Box<dyn RateLimiter<T>>,
    max: Duration,
}

impl<T> WithMaxWaitRateLimiter<T> {
    /// Wraps `limiter` so no wait exceeds `max`.
    pub fn new(limiter: Box<dyn RateLimiter<T>>, max: Duration) -> Self {
        WithMaxWaitRateLimiter { limiter, max }
    }
}

impl<T> fmt::Debug for WithMaxWaitRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithMaxWaitRateLimiter")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<T> RateLimiter<T> for WithMaxWaitRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        self.limiter.when(item).min(self.max)
    }

    fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.limiter.num_requeues(item)
    }
}

/// `base * 2^exponent`, or `max` if that is larger or does not fit.
fn backoff(base: Duration, exponent: u32, max: Duration) -> Duration {
    let scaled = 1u128
        .checked_shl(exponent)
        .and_then(|factor| base.as_nanos().checked_mul(factor));
    match scaled {
        Some(nanos) if nanos <= max.as_nanos() => {
            // Below `max`, which is a Duration, so it fits one.
            Duration::new(
                (nanos / 1_000_000_000) as u64,
                (nanos % 1_000_000_000) as u32,
            )
        }
        _ => max,
    }
}

fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    // Limiter state is a map of counters updated in single steps; a panic elsewhere cannot
    // leave it half-written, so a poisoned lock is safe to reuse.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sequence<T>(limiter: &dyn RateLimiter<T>, item: &T, n: usize) -> Vec<Duration> {
        (0..n).map(|_| limiter.when(item)).collect()
    }

    #[test]
    fn exponential_doubles_from_the_base_per_item() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(1), Duration::from_secs(1));
        assert_eq!(
            sequence(&limiter, &"a", 5),
            vec![ms(1), ms(2), ms(4), ms(8), ms(16)]
        );
        assert_eq!(limiter.num_requeues(&"a"), 5);
        assert_eq!(limiter.when(&"b"), ms(1), "each item has its own count");
        assert_eq!(limiter.num_requeues(&"b"), 1);
    }

    #[test]
    fn exponential_stops_at_the_cap() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), ms(30));
        assert_eq!(
            sequence(&limiter, &"a", 5),
            vec![ms(5), ms(10), ms(20), ms(30), ms(30)]
        );
    }

    #[test]
    fn exponential_forget_starts_the_item_over() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), Duration::from_secs(1));
        sequence(&limiter, &"a", 3);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), ms(5));
    }

    #[test]
    fn exponential_default_is_five_ms_capped_at_a_thousand_seconds() {
        let limiter = ItemExponentialFailureRateLimiter::default();
        assert_eq!(sequence(&limiter, &1, 3), vec![ms(5), ms(10), ms(20)]);
        // 5 ms * 2^17 = 655.36 s is below the cap; 2^18 is not.
        let late = sequence(&limiter, &1, 16);
        assert_eq!(late[14], ms(655_360));
        assert_eq!(late[15], Duration::from_secs(1000));
    }

    #[test]
    fn exponential_never_overflows_after_many_failures() {
        let limiter = ItemExponentialFailureRateLimiter::new(Duration::MAX, Duration::MAX);
        for _ in 0..200 {
            assert_eq!(limiter.when(&"a"), Duration::MAX);
        }
        assert_eq!(limiter.num_requeues(&"a"), 200);
    }

    #[test]
    fn fast_slow_switches_after_the_fast_attempts() {
        let limiter = ItemFastSlowRateLimiter::new(ms(5), Duration::from_secs(10), 3);
        assert_eq!(
            sequence(&limiter, &"a", 5),
            vec![
                ms(5),
                ms(5),
                ms(5),
                Duration::from_secs(10),
                Duration::from_secs(10)
            ]
        );
        assert_eq!(limiter.num_requeues(&"a"), 5);
        assert_eq!(limiter.when(&"b"), ms(5));
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), ms(5));
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_grants_the_burst_then_spaces_out_at_the_rate() {
        let limiter = BucketRateLimiter::new(10.0, 3).unwrap();
        assert_eq!(
            sequence::<&str>(&limiter, &"a", 6),
            vec![
                Duration::ZERO,
                Duration::ZERO,
                Duration::ZERO,
                ms(100),
                ms(200),
                ms(300)
            ]
        );
        assert_eq!(RateLimiter::<&str>::num_requeues(&limiter, &"a"), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_refills_with_time_up_to_the_burst() {
        let limiter = BucketRateLimiter::new(10.0, 2).unwrap();
        assert_eq!(sequence::<u8>(&limiter, &0, 2), vec![Duration::ZERO; 2]);
        tokio::time::sleep(ms(100)).await;
        assert_eq!(limiter.when(&0u8), Duration::ZERO, "one token came back");
        assert_eq!(limiter.when(&0u8), ms(100));
        // A long pause refills only up to the burst.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            sequence::<u8>(&limiter, &0, 3),
            vec![Duration::ZERO, Duration::ZERO, ms(100)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_default_allows_a_hundred_then_ten_per_second() {
        let limiter = BucketRateLimiter::default();
        let delays = sequence::<u8>(&limiter, &0, 102);
        assert!(delays[..100].iter().all(Duration::is_zero));
        assert_eq!(delays[100..], [ms(100), ms(200)]);
    }

    #[test]
    fn bucket_rejects_a_bad_rate_or_burst() {
        for qps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            match BucketRateLimiter::new(qps, 1) {
                Err(Error::InvalidQps { .. }) => {}
                other => panic!("qps {qps} gave {other:?}"),
            }
        }
        assert_eq!(
            BucketRateLimiter::new(1.0, 0).map(|_| ()),
            Err(Error::ZeroBurst)
        );
    }

    #[test]
    fn max_of_returns_the_longest_wait_and_consults_every_limiter() {
        let limiter = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(ms(3), ms(100), 2)),
            Box::new(ItemExponentialFailureRateLimiter::new(
                ms(1),
                Duration::from_secs(1),
            )),
        ]);
        // fast-slow: 3, 3, 100, 100; exponential: 1, 2, 4, 8.
        assert_eq!(
            sequence(&limiter, &"a", 4),
            vec![ms(3), ms(3), ms(100), ms(100)]
        );
        // Here the exponential limiter wins from the fourth failure on, which it can only do
        // if it counted the failures in which fast-slow set the wait.
        let limiter = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(ms(3), ms(4), 1)),
            Box::new(ItemExponentialFailureRateLimiter::new(
                ms(1),
                Duration::from_secs(1),
            )),
        ]);
        assert_eq!(
            sequence(&limiter, &"a", 5),
            vec![ms(3), ms(4), ms(4), ms(8), ms(16)]
        );
    }

    #[test]
    fn max_of_forgets_in_every_limiter_and_reports_the_largest_count() {
        let limiter = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(ms(1), ms(2), 1)),
            Box::new(ItemExponentialFailureRateLimiter::new(ms(1), ms(100))),
        ]);
        sequence(&limiter, &"a", 3);
        assert_eq!(limiter.num_requeues(&"a"), 3);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), ms(1));
    }

    #[test]
    fn max_of_nothing_never_waits() {
        let limiter: MaxOfRateLimiter<u8> = MaxOfRateLimiter::new(Vec::new());
        assert_eq!(limiter.when(&1), Duration::ZERO);
        assert_eq!(limiter.num_requeues(&1), 0);
    }

    #[test]
    fn with_max_wait_caps_the_inner_limiter() {
        let limiter = WithMaxWaitRateLimiter::new(
            Box::new(ItemExponentialFailureRateLimiter::new(
                ms(10),
                Duration::from_secs(100),
            )),
            ms(25),
        );
        assert_eq!(
            sequence(&limiter, &"a", 4),
            vec![ms(10), ms(20), ms(25), ms(25)]
        );
        assert_eq!(limiter.num_requeues(&"a"), 4);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn default_controller_limiter_is_per_item_exponential_under_an_overall_bucket() {
        let limiter = default_controller_rate_limiter::<String>();
        let key = "default/pod".to_string();
        assert_eq!(
            sequence(&limiter, &key, 4),
            vec![ms(5), ms(10), ms(20), ms(40)]
        );
        assert_eq!(limiter.num_requeues(&key), 4);
        // 98 more keys drain the rest of the burst (4 tokens are gone), after which
        // the bucket, not the 5 ms backoff, sets the pace.
        let delays: Vec<Duration> = (0..98).map(|i| limiter.when(&format!("k{i}"))).collect();
        assert_eq!(delays[95], ms(5));
        assert_eq!(delays[96], ms(100));
        assert_eq!(delays[97], ms(200));
        limiter.forget(&key);
        assert_eq!(limiter.num_requeues(&key), 0);
    }
}
