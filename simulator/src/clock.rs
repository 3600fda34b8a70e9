//! The simulator's clock: what `createdAt`, `modifiedAt` and the other stamps read, and what
//! every answer's `Date` header says. It runs with real time unless a test freezes it, sets it
//! or moves it on, so that what depends on AtroCore's one-second stamps (`date('Y-m-d H:i:s')`,
//! UTC, at the start of a save: `app/Atro/Core/ORM/Repositories/RDB.php::save`, 2.2.31 and
//! 2.3.13) happens when the test wants: a bulk upsert whose records all share one second, a
//! change feed whose horizon must not pass a second that still gains records.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The clock of one simulator; see the module docs.
#[derive(Debug, Default)]
pub struct Clock {
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// Frozen at these Unix seconds.
    frozen: Option<i64>,
    /// Seconds added to real time while running.
    offset: i64,
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Clock {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// The current time, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.with(|s| s.frozen.unwrap_or_else(|| real_now() + s.offset))
    }

    /// The current time.
    pub fn system_time(&self) -> SystemTime {
        let now = self.now();
        if now >= 0 {
            UNIX_EPOCH + Duration::from_secs(now as u64)
        } else {
            UNIX_EPOCH
        }
    }

    /// Stops the clock at the current time: every write stamps this second until the clock
    /// moves again.
    pub fn freeze(&self) {
        let now = self.now();
        self.with(|s| s.frozen = Some(now));
    }

    /// Stops the clock at `unix_seconds`.
    pub fn freeze_at(&self, unix_seconds: i64) {
        self.with(|s| s.frozen = Some(unix_seconds));
    }

    /// Moves the clock on by `seconds` (back when negative: a clock step), frozen or not.
    pub fn advance(&self, seconds: i64) {
        self.with(|s| match &mut s.frozen {
            Some(t) => *t += seconds,
            None => s.offset += seconds,
        });
    }

    /// Lets a frozen clock run again from where it stands.
    pub fn resume(&self) {
        self.with(|s| {
            if let Some(t) = s.frozen.take() {
                s.offset = t - real_now();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freezes_advances_and_resumes() {
        let clock = Clock::default();
        clock.freeze_at(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(5);
        assert_eq!(clock.now(), 1_005);
        clock.advance(-2);
        assert_eq!(clock.now(), 1_003);
        clock.resume();
        let now = clock.now();
        assert!((1_003..1_006).contains(&now), "{now}");
        clock.advance(100);
        assert!(clock.now() >= 1_103);
    }
}
