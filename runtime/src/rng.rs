//! A small non-cryptographic random source (splitmix64) for retry jitter and generated file
//! ids, so the runtime does not pull a random-number crate (and its dependencies) into every
//! generated client's build.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static STATE: AtomicU64 = AtomicU64::new(0);

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    nanos ^ ((&local as *const u8 as u64).rotate_left(32)) ^ u64::from(std::process::id())
}

/// The next 64 random bits.
pub(crate) fn next_u64() -> u64 {
    // Lazily seeded; every call advances the shared state by the splitmix64 increment.
    if STATE.load(Ordering::Relaxed) == 0 {
        let _ = STATE.compare_exchange(0, seed() | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `low..=high` (inclusive).
pub(crate) fn range_inclusive(low: u64, high: u64) -> u64 {
    if high <= low {
        return low;
    }
    let span = high - low;
    if span == u64::MAX {
        return next_u64();
    }
    low + next_u64() % (span + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_varies() {
        let values: Vec<u64> = (0..1000).map(|_| range_inclusive(5, 9)).collect();
        assert!(values.iter().all(|v| (5..=9).contains(v)));
        for v in 5..=9 {
            assert!(values.contains(&v), "{v} never drawn");
        }
        assert_eq!(range_inclusive(3, 3), 3);
        assert_ne!(next_u64(), next_u64());
    }
}
