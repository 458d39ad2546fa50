//! What the lead did and when: Poisson activity counts whose rates rise with latent intent
//! (itself driven by fit), a product-led segment with in-product milestones, and timestamps
//! placed before the snapshot so that recency varies from lead to lead.

use chrono::{DateTime, Duration, Utc};
use qualify_core::lead::{Activity, ActivityType};
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp1};

use super::profile::Profile;
use super::{chance, normal, poisson};

/// Leads are created uniformly over this many days before the snapshot.
pub(super) const HISTORY_DAYS: f64 = 450.0;
/// Mean delay (days) from lead creation to an activity in the first burst of interest.
const BURST_MEAN_DAYS: f64 = 21.0;
/// Share of leads whose activity is spread over their whole life (re-engaged leads).
const REENGAGED: f64 = 0.3;

/// Marketing activity: type, base rate (events per lead), intent elasticity, cap per lead.
/// Rate = base × exp(elasticity × intent). Careers-page visits fall with intent: job seekers.
const MARKETING: &[(ActivityType, f64, f64, u32)] = &[
    (ActivityType::WebsiteVisit, 2.0, 0.5, 30),
    (ActivityType::PricingPageVisit, 0.35, 0.8, 20),
    (ActivityType::CareersPageVisit, 0.15, -0.4, 10),
    (ActivityType::DemoRequest, 0.03, 1.1, 3),
    (ActivityType::WebinarAttended, 0.25, 0.6, 8),
    (ActivityType::CaseStudyDownload, 0.2, 0.7, 8),
    (ActivityType::EbookDownload, 0.35, 0.4, 8),
    (ActivityType::BlogDownload, 0.5, 0.2, 15),
    (ActivityType::EmailOpen, 2.5, 0.4, 40),
    (ActivityType::NewsletterSignup, 0.15, 0.2, 1),
];

/// Drawn behaviour of one lead.
#[derive(Debug, Clone)]
pub(super) struct Behaviour {
    /// Latent buying intent, about N(0.6 × fit, 1).
    pub intent: f64,
    /// True for the product-led (trial) segment.
    pub product_led: bool,
    /// All activities, oldest first.
    pub activities: Vec<Activity>,
}

impl Behaviour {
    pub(super) fn count(&self, kind: ActivityType) -> u32 {
        self.activities.iter().filter(|a| a.kind == kind).count() as u32
    }

    /// Days from the most recent activity to `as_of`; `None` without activity.
    pub(super) fn days_since_last(&self, as_of: DateTime<Utc>) -> Option<f64> {
        self.activities
            .iter()
            .map(|a| a.at)
            .max()
            .map(|t| (as_of - t).num_seconds() as f64 / 86_400.0)
    }
}

/// When the lead entered the CRM: uniform over the [`HISTORY_DAYS`] before `as_of`.
pub(super) fn draw_created_at(rng: &mut StdRng, as_of: DateTime<Utc>) -> DateTime<Utc> {
    as_of - Duration::seconds((rng.random::<f64>() * HISTORY_DAYS * 86_400.0) as i64)
}

/// Draws counts and places them in time between `created_at` and `as_of`.
pub(super) fn draw(
    rng: &mut StdRng,
    profile: &Profile,
    created_at: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> Behaviour {
    let intent = 0.6 * profile.fit + normal(rng);
    let mut counts: Vec<(ActivityType, u32)> = MARKETING
        .iter()
        .map(|&(kind, base, elasticity, cap)| {
            (
                kind,
                poisson(rng, base * (elasticity * intent).exp()).min(cap),
            )
        })
        .collect();

    let saas_like = matches!(profile.industry, "saas" | "fintech");
    let product_led = chance(rng, if saas_like { 0.20 } else { 0.10 });
    if product_led {
        counts.push((ActivityType::TrialSignup, 1));
        let invited = poisson(rng, 0.8 * (0.7 * intent).exp()).min(15);
        let used = poisson(rng, 2.0 * (0.6 * intent).exp()).min(40);
        counts.push((ActivityType::TeammateInvited, invited));
        counts.push((ActivityType::CoreFeatureUsed, used));
    }

    let life_days = (as_of - created_at).num_seconds() as f64 / 86_400.0;
    let reengaged = chance(rng, REENGAGED);
    let mut activities = Vec::new();
    // In-product milestones follow the trial signup (counts list it before them).
    let mut trial_offset = 0.0;
    for (kind, n) in counts {
        let milestone = matches!(
            kind,
            ActivityType::TeammateInvited | ActivityType::CoreFeatureUsed
        );
        for _ in 0..n {
            let start = if milestone { trial_offset } else { 0.0 };
            let span = life_days - start;
            let offset = start
                + if reengaged {
                    rng.random::<f64>() * span
                } else {
                    let delay: f64 = Exp1.sample(rng);
                    let d = delay * BURST_MEAN_DAYS;
                    if d < span {
                        d
                    } else {
                        rng.random::<f64>() * span
                    }
                };
            if kind == ActivityType::TrialSignup {
                trial_offset = offset;
            }
            let at = created_at + Duration::seconds((offset * 86_400.0) as i64);
            activities.push(Activity::new(kind, at.min(as_of)));
        }
    }
    activities.sort_by_key(|a| a.at);
    Behaviour {
        intent,
        product_led,
        activities,
    }
}
