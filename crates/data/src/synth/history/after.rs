//! What happens after a lead closes: customers onboard, log in and pay; leads disqualified for
//! bad timing stay on the nurture list.
//!
//! Why it is generated at all: a CRM keeps logging events after the outcome, and a careless
//! snapshot (every event ever seen, label "ever converted") learns from them. The customer-only
//! types make that mistake look excellent in-sample and useless at scoring time; the nurture
//! opens of disqualified leads dilute engagement counts the same way.

use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp1};

use super::events::EventKind;
use super::life::{Drawn, Person};
use crate::synth::{chance, normal, poisson};
use qualify_core::lead::ActivityType;

/// Customer events start at least an hour after the conversion.
const MIN_GAP_DAYS: f64 = 1.0 / 24.0;
/// Share of customers with onboarding calls; their number is `1 + Poisson(1)`.
const ONBOARDED: f64 = 0.9;
/// Onboarding calls fall uniformly in the first 30 days after the conversion.
const ONBOARDING_DAYS: f64 = 30.0;
/// Invoices: the first within 14 days, then every 30 days, at most 12.
const FIRST_INVOICE_DAYS: f64 = 14.0;
const INVOICE_EVERY_DAYS: f64 = 30.0;
const MAX_INVOICES: u32 = 6;
/// Product logins per day right after the conversion, decaying with this time constant.
const LOGIN_RATE: f64 = 0.1;
const LOGIN_DAYS: f64 = 40.0;
/// Nurture-email opens per day of a lead disqualified for bad timing (× `exp(0.4 · intent)`).
const NURTURE_RATE: f64 = 0.01;

/// Customer events from the conversion at `converted` until `end`: onboarding calls, monthly
/// invoices (`value` = USD) and product logins.
pub(super) fn customer(rng: &mut StdRng, person: &Person, converted: f64, end: f64) -> Vec<Drawn> {
    let from = converted + MIN_GAP_DAYS;
    let mut out = Vec::new();
    let push = |out: &mut Vec<Drawn>, t: f64, kind, value| {
        if t < end {
            out.push(Drawn { t, kind, value });
        }
    };
    if chance(rng, ONBOARDED) {
        for _ in 0..1 + poisson(rng, 1.0) {
            let t = from + rng.random_range(0.0..ONBOARDING_DAYS);
            push(&mut out, t, EventKind::OnboardingCall, None);
        }
    }
    let fee = monthly_fee(person.profile.employees as f64, normal(rng));
    let mut t = from + rng.random_range(0.0..FIRST_INVOICE_DAYS);
    for _ in 0..MAX_INVOICES {
        push(&mut out, t, EventKind::InvoicePaid, Some(fee));
        t += INVOICE_EVERY_DAYS;
    }
    // Logins: a Poisson process with rate LOGIN_RATE · exp(−s / LOGIN_DAYS), s days after the
    // conversion, drawn by inverting its cumulative rate (finite: LOGIN_RATE · LOGIN_DAYS).
    let mut mass = 0.0;
    let total = LOGIN_RATE * LOGIN_DAYS;
    loop {
        let gap: f64 = Exp1.sample(rng);
        mass += gap;
        if mass >= total {
            break;
        }
        let s = -LOGIN_DAYS * (1.0 - mass / total).ln();
        push(&mut out, from + s, EventKind::ProductLogin, None);
    }
    out
}

/// Monthly fee in USD: `20 · min(employees, 2000)^0.7 · exp(0.3 · N(0,1))`, rounded to $10.
fn monthly_fee(employees: f64, noise: f64) -> f64 {
    let seats = employees.clamp(1.0, 2_000.0);
    ((20.0 * seats.powf(0.7) * (0.3 * noise).exp()) / 10.0).round() * 10.0
}

/// Nurture-email opens of a lead disqualified for bad timing, from `from` until `until`.
pub(super) fn nurture(rng: &mut StdRng, person: &Person, from: f64, until: f64) -> Vec<Drawn> {
    let rate = NURTURE_RATE * (0.4 * person.intent).exp();
    let mut out = Vec::new();
    let mut t = from;
    loop {
        let gap: f64 = Exp1.sample(rng);
        t += gap / rate;
        if t >= until {
            return out;
        }
        out.push(Drawn {
            t,
            kind: EventKind::Activity(ActivityType::EmailOpen),
            value: None,
        });
    }
}
