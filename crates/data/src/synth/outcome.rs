//! Qualification answers and conversion: the logistic model of docs/synthetic-data.md.
//!
//! Conversion is Bernoulli(sigmoid(z)) with z built from the true profile and behaviour:
//! fit, engagement scaled by fit (the fit × engagement interaction) and by recency decay,
//! demo requests, the product-led milestones, negative signals, the BANT-style answers where
//! sales asked, and Gaussian noise for everything a CRM does not record.

use chrono::{DateTime, Utc};
use qualify_core::lead::{ActivityType, Seniority};
use rand::rngs::StdRng;

use super::behaviour::Behaviour;
use super::profile::Profile;
use super::{chance, normal, pick, sigmoid};

/// Intercept, chosen so that the base rate lands near 14% (docs/synthetic-data.md).
pub(super) const INTERCEPT: f64 = -4.5;
/// Recency decay time constant in days: engagement weighs exp(-age / 60 days).
pub(super) const DECAY_DAYS: f64 = 60.0;
/// Standard deviation of the unrecorded noise on the logit.
const NOISE_SD: f64 = 0.5;

/// Outcome-side fields of one lead.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub budget_confirmed: Option<bool>,
    pub need_confirmed: Option<bool>,
    pub timeline_days: Option<u32>,
    pub disqualification_reason: Option<String>,
    pub converted: bool,
}

/// Draws answers (only for leads sales talked to), then conversion.
pub(super) fn draw(
    rng: &mut StdRng,
    profile: &Profile,
    behaviour: &Behaviour,
    as_of: DateTime<Utc>,
) -> Outcome {
    let n = |kind| f64::from(behaviour.count(kind));
    let l = |kind| n(kind).ln_1p();
    let demos = n(ActivityType::DemoRequest);
    let touched = demos > 0.0
        || (n(ActivityType::PricingPageVisit) > 0.0 && chance(rng, 0.25))
        || (n(ActivityType::TeammateInvited) > 0.0 && chance(rng, 0.4));

    let (mut budget, mut need, mut timeline) = (None, None, None);
    if touched {
        if chance(rng, 0.6) {
            budget = Some(chance(rng, sigmoid(0.3 + 0.8 * profile.fit)));
        }
        if chance(rng, 0.6) {
            need = Some(chance(rng, sigmoid(0.2 + 0.6 * behaviour.intent)));
        }
        if chance(rng, 0.5) {
            let urgency = behaviour.intent + 0.8 * normal(rng);
            timeline = Some(match urgency {
                u if u > 1.5 => 14,
                u if u > 0.8 => 30,
                u if u > 0.2 => 60,
                u if u > -0.4 => 90,
                u if u > -1.0 => 180,
                _ => 365,
            });
        }
    }

    let decay = behaviour
        .days_since_last(as_of)
        .map_or(0.0, |d| (-d / DECAY_DAYS).exp());
    let fit = profile.fit;
    // Fit × engagement: the same behaviour is worth more from a well-fitting company.
    let gain = (1.0 + 0.6 * fit).clamp(0.2, 2.5);
    let engagement = 0.35 * l(ActivityType::WebsiteVisit)
        + 0.8 * l(ActivityType::PricingPageVisit)
        + 0.6 * l(ActivityType::WebinarAttended)
        + 0.5 * l(ActivityType::CaseStudyDownload)
        + 0.25 * l(ActivityType::EbookDownload)
        + 0.1 * l(ActivityType::BlogDownload)
        + 0.15 * l(ActivityType::EmailOpen)
        + 0.2 * n(ActivityType::NewsletterSignup)
        - 0.5 * l(ActivityType::CareersPageVisit);
    let demo = if demos > 0.0 {
        1.6 + 0.3 * (demos - 1.0)
    } else {
        0.0
    };
    let product = if behaviour.product_led {
        0.3 + 0.6 * l(ActivityType::TeammateInvited) + 0.35 * l(ActivityType::CoreFeatureUsed)
    } else {
        0.0
    };
    let answers = match budget {
        Some(true) => 0.7,
        Some(false) => -1.0,
        None => 0.0,
    } + match need {
        Some(true) => 0.6,
        Some(false) => -0.8,
        None => 0.0,
    } + match timeline {
        Some(d) if d <= 60 => 0.5,
        Some(d) if d >= 180 => -0.6,
        _ => 0.0,
    };
    let z = INTERCEPT
        + 0.7 * fit
        + 0.9 * engagement * gain * (0.2 + 0.8 * decay)
        + demo * gain * (0.35 + 0.65 * decay)
        + product * (0.4 + 0.6 * decay)
        + 1.0 * decay
        - if profile.personal_email { 1.1 } else { 0.0 }
        - if profile.served { 0.0 } else { 0.9 }
        + answers
        + NOISE_SD * normal(rng);
    let converted = chance(rng, sigmoid(z));

    let disqualification_reason = (touched && !converted && chance(rng, 0.7)).then(|| {
        let reason = if matches!(
            profile.seniority,
            Seniority::Intern | Seniority::IndividualContributor
        ) {
            "not a decision-maker"
        } else if budget == Some(false) {
            "no budget"
        } else if decay < 0.1 {
            "unresponsive"
        } else {
            *pick(rng, &[("chose a competitor", 0.5), ("bad timing", 0.5)])
        };
        reason.to_string()
    });
    Outcome {
        budget_confirmed: budget,
        need_confirmed: need,
        timeline_days: timeline,
        disqualification_reason,
        converted,
    }
}
