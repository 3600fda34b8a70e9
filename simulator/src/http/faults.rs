//! Deterministic fault injection: latency, 503/429 answers and dropped connections, before the
//! server acts or after a write was carried out.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Faults;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serve it normally.
    None,
    /// Close the connection without a complete answer.
    Drop,
    /// Answer 503.
    Error,
    /// Answer 429.
    Throttle,
    /// Answer 400: the answer failed the server's response validation (2.3).
    InvalidAnswer,
}

/// The fault settings with their seeded random generator; replaceable while serving
/// ([`FaultState::set`]).
#[derive(Debug)]
pub struct FaultState {
    inner: Mutex<(Faults, StdRng)>,
}

impl FaultState {
    /// Seeds the generator from the settings.
    pub fn new(faults: Faults) -> FaultState {
        let rng = StdRng::seed_from_u64(faults.seed);
        FaultState {
            inner: Mutex::new((faults, rng)),
        }
    }

    /// Replaces the settings, the generator seeded anew from them.
    pub fn set(&self, faults: Faults) {
        *self.lock() = (faults.clone(), StdRng::seed_from_u64(faults.seed));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Faults, StdRng)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The delay added before every API answer.
    pub fn latency(&self) -> std::time::Duration {
        self.lock().0.latency
    }

    /// Decides the fate of the next request (one draw per request, in arrival order).
    pub fn next(&self) -> Fault {
        let (f, rng) = &mut *self.lock();
        if f.drop_rate <= 0.0 && f.error_rate <= 0.0 && f.throttle_rate <= 0.0 {
            return Fault::None;
        }
        let x: f64 = rng.random();
        if x < f.drop_rate {
            Fault::Drop
        } else if x < f.drop_rate + f.error_rate {
            Fault::Error
        } else if x < f.drop_rate + f.error_rate + f.throttle_rate {
            Fault::Throttle
        } else {
            Fault::None
        }
    }

    /// Decides whether the answer of a write that was carried out is lost: the connection
    /// dropped (`Some(Fault::Drop)`) or a 503 instead of the answer (`Some(Fault::Error)`).
    pub fn after_write(&self) -> Option<Fault> {
        let (f, rng) = &mut *self.lock();
        let (drop, error, invalid) = (
            f.after_write_drop_rate,
            f.after_write_error_rate,
            f.after_write_invalid_answer_rate,
        );
        if drop <= 0.0 && error <= 0.0 && invalid <= 0.0 {
            return None;
        }
        let x: f64 = rng.random();
        if x < drop {
            Some(Fault::Drop)
        } else if x < drop + error {
            Some(Fault::Error)
        } else if x < drop + error + invalid {
            Some(Fault::InvalidAnswer)
        } else {
            None
        }
    }
}
