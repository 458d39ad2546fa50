//! Synthetic B2B CRM history in the canonical lead record.
//!
//! Why: the project needs data it may ship, test against and train its bundled default model
//! on, and real CRM exports are private. The history is drawn from a documented generative
//! model (docs/synthetic-data.md) whose conversion depends on profile fit, engagement, their
//! interaction and recency, so a model trained on it has real, known structure to find and the
//! rule-based stage has something to be compared with.
//!
//! Each row is drawn from its own random stream derived from `(seed, row)`, so a run is
//! reproducible for a seed and the first `n` rows of a larger run equal a run of `n` rows.
//!
//! Layout (private submodules): `profile` draws who the lead is (firmographics, with the
//! tool stack from `stack` and the person from `contact`), `behaviour` what they did and
//! when, `outcome` the qualification answers and whether they converted; `table` turns leads
//! into the flat table ([`to_raw_table`]) and JSON lines ([`to_jsonl`]). The public
//! [`history`] module draws the same profiles into a history in time (leads, events,
//! outcomes) for point-in-time training. The random streams are `rand`'s `StdRng`:
//! reproducible for a seed with the locked `rand` version.

mod behaviour;
mod contact;
pub mod history;
mod outcome;
mod profile;
mod stack;
mod table;
#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeZone, Utc};
use qualify_core::lead::LeadRecord;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Poisson, StandardNormal};

pub use table::{Kind as CellKind, LayoutError, SET_SEPARATOR, to_jsonl, to_raw_table};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of leads.
    pub rows: usize,
    /// Seed of the random streams; the same seed gives the same leads.
    pub seed: u64,
    /// Snapshot time: every lead is created and every activity happens before it, and
    /// recency is measured against it. Fixed by default so that output is reproducible.
    pub as_of: DateTime<Utc>,
}

impl SynthConfig {
    /// `rows` leads from `seed`, as of [`SynthConfig::default_as_of`].
    pub fn new(rows: usize, seed: u64) -> Self {
        Self {
            rows,
            seed,
            as_of: Self::default_as_of(),
        }
    }

    /// The default snapshot time, 2026-06-30T00:00:00Z.
    pub fn default_as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 30, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self::new(5_000, 42)
    }
}

/// One generated lead: the canonical record as a service would send it, plus the facts a
/// training file adds (when the lead was created, whether it converted).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthLead {
    pub lead: LeadRecord,
    pub created_at: DateTime<Utc>,
    pub converted: bool,
}

/// Generates `config.rows` leads; deterministic for `config.seed` and `config.as_of`.
pub fn generate(config: &SynthConfig) -> Vec<SynthLead> {
    (0..config.rows)
        .map(|row| {
            let mut rng = StdRng::seed_from_u64(row_seed(config.seed, row as u64));
            generate_one(&mut rng, row, config.as_of)
        })
        .collect()
}

fn generate_one(rng: &mut StdRng, row: usize, as_of: DateTime<Utc>) -> SynthLead {
    let profile = profile::draw(rng);
    let created_at = behaviour::draw_created_at(rng, as_of);
    let behaviour = behaviour::draw(rng, &profile, created_at, as_of);
    let outcome = outcome::draw(rng, &profile, &behaviour, as_of);
    let mut lead = profile.observe(rng);
    lead.id = Some(format!("lead-{:06}", row + 1));
    lead.activities = behaviour.activities;
    lead.budget_confirmed = outcome.budget_confirmed;
    lead.need_confirmed = outcome.need_confirmed;
    lead.timeline_days = outcome.timeline_days;
    lead.disqualification_reason = outcome.disqualification_reason;
    SynthLead {
        lead,
        created_at,
        converted: outcome.converted,
    }
}

/// SplitMix64 over `(seed, row)`: independent, well-mixed seeds for each row's stream.
fn row_seed(seed: u64, row: u64) -> u64 {
    let mut z = seed ^ row.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal draw.
fn normal(rng: &mut StdRng) -> f64 {
    StandardNormal.sample(rng)
}

/// True with probability `p` (clamped to [0, 1]).
fn chance(rng: &mut StdRng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A Poisson count with rate `lambda` (a non-positive or non-finite rate gives 0).
fn poisson(rng: &mut StdRng, lambda: f64) -> u32 {
    match Poisson::new(lambda.clamp(0.0, 1e4)) {
        Ok(d) => d.sample(rng) as u32,
        Err(_) => 0,
    }
}

/// Picks one item with probability proportional to its weight.
fn pick<'a, T>(rng: &mut StdRng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w.max(0.0)).sum();
    let mut left = rng.random::<f64>() * total;
    for (item, w) in items {
        left -= w.max(0.0);
        if left < 0.0 {
            return item;
        }
    }
    // Floating-point leftovers land on the last item; callers never pass an empty list.
    &items[items.len() - 1].0
}

/// The logistic function.
fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}
