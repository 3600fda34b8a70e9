//! Deterministic fault injection: latency, 503/429 answers and dropped connections.

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
