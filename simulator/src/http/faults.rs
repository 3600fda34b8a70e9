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
}

/// The fault settings with their seeded random generator.
#[derive(Debug)]
pub struct FaultState {
    /// The settings.
    pub faults: Faults,
    rng: Mutex<StdRng>,
}

impl FaultState {
    /// Seeds the generator from the settings.
    pub fn new(faults: Faults) -> FaultState {
        let rng = Mutex::new(StdRng::seed_from_u64(faults.seed));
        FaultState { faults, rng }
    }

    /// Decides the fate of the next request (one draw per request, in arrival order).
    pub fn next(&self) -> Fault {
        let f = &self.faults;
        if f.drop_rate <= 0.0 && f.error_rate <= 0.0 && f.throttle_rate <= 0.0 {
            return Fault::None;
        }
        let x: f64 = self.rng.lock().unwrap_or_else(|p| p.into_inner()).random();
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
}

impl FaultState {
    /// Decides whether the answer of a write that was carried out is lost: the connection
    /// dropped (`Some(Fault::Drop)`) or a 503 instead of the answer (`Some(Fault::Error)`).
    pub fn after_write(&self) -> Option<Fault> {
        let f = &self.faults;
        if f.after_write_drop_rate <= 0.0 && f.after_write_error_rate <= 0.0 {
            return None;
        }
        let x: f64 = self.rng.lock().unwrap_or_else(|p| p.into_inner()).random();
        if x < f.after_write_drop_rate {
            Some(Fault::Drop)
        } else if x < f.after_write_drop_rate + f.after_write_error_rate {
            Some(Fault::Error)
        } else {
            None
        }
    }
}
