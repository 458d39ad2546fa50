//! The event types of the synthetic history and what each one does in the generative model.
//!
//! Why a catalogue: every event type carries several constants (how often it happens, how much
//! more often for an interested lead, how much it moves the conversion hazard, how many a lead
//! can have) and docs/synthetic-data.md lists them all; one table keeps the code and that page
//! in step. The types are the canonical activity types plus types a CRM logs under its own
//! names (`email_click`, `sales_call`) and the customer-only types that follow a conversion
//! (`onboarding_call`, `invoice_paid`, `product_login`): the trap a careless snapshot falls in.

use qualify_core::lead::ActivityType;

/// The type of one event: a canonical activity type or one of the CRM's own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A canonical activity type (docs/concepts.md).
    Activity(ActivityType),
    /// A click in a marketing email.
    EmailClick,
    /// A call logged by sales: the first one qualifies the lead.
    SalesCall,
    /// Customer onboarding: only ever after a conversion.
    OnboardingCall,
    /// A paid invoice (`value` = USD): only ever after a conversion.
    InvoicePaid,
    /// A login to the product as a customer: only ever after a conversion.
    ProductLogin,
}

impl EventKind {
    /// The types that only ever follow a conversion.
    pub const POST_CONVERSION: [EventKind; 3] = [
        EventKind::OnboardingCall,
        EventKind::InvoicePaid,
        EventKind::ProductLogin,
    ];

    /// The name written in the events table's `type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Activity(a) => a.as_str(),
            EventKind::EmailClick => "email_click",
            EventKind::SalesCall => "sales_call",
            EventKind::OnboardingCall => "onboarding_call",
            EventKind::InvoicePaid => "invoice_paid",
            EventKind::ProductLogin => "product_login",
        }
    }

    /// True for the customer-only types ([`EventKind::POST_CONVERSION`]).
    pub fn is_post_conversion(self) -> bool {
        Self::POST_CONVERSION.contains(&self)
    }

    /// True for the types whose events carry a numeric `value`.
    pub fn has_value(self) -> bool {
        matches!(
            self,
            EventKind::Activity(ActivityType::WebsiteVisit) | EventKind::InvoicePaid
        )
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When an inbound type can happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// From the lead's creation.
    Always,
    /// Only after the lead's `trial_signup` (in-product milestones).
    Trial,
}

/// One inbound (marketing and product) event type of an open lead.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inbound {
    pub kind: EventKind,
    /// Events per day at activity level 1 for a lead of intent 0.
    pub base: f64,
    /// Rate multiplier `exp(elasticity · intent)`: interested leads do more of it.
    pub elasticity: f64,
    /// What one event adds to the lead's engagement (the conversion hazard's driver).
    pub weight: f64,
    /// At most this many per lead.
    pub cap: u32,
    pub gate: Gate,
}

const fn inbound(
    activity: ActivityType,
    base: f64,
    elasticity: f64,
    weight: f64,
    cap: u32,
    gate: Gate,
) -> Inbound {
    Inbound {
        kind: EventKind::Activity(activity),
        base,
        elasticity,
        weight,
        cap,
        gate,
    }
}

/// Lots of events: effectively no cap.
const MANY: u32 = 10_000;

/// The inbound types (docs/synthetic-data.md, "2. Interest and events"): kind, base rate,
/// elasticity, hazard weight, cap, gate. Careers-page visits fall with intent and weigh
/// against conversion: job seekers. The base of `trial_signup` is doubled for saas and fintech.
#[rustfmt::skip]
pub(super) const INBOUND: &[Inbound] = &[
    inbound(ActivityType::WebsiteVisit,      0.07,   0.5, 0.25, MANY, Gate::Always),
    inbound(ActivityType::PricingPageVisit,  0.017,  0.8, 1.0,  MANY, Gate::Always),
    inbound(ActivityType::CareersPageVisit,  0.008, -0.4, -0.6, MANY, Gate::Always),
    inbound(ActivityType::DemoRequest,       0.002,  1.1, 3.0,  3,    Gate::Always),
    inbound(ActivityType::WebinarAttended,   0.012,  0.6, 0.6,  MANY, Gate::Always),
    inbound(ActivityType::CaseStudyDownload, 0.009,  0.7, 0.6,  MANY, Gate::Always),
    inbound(ActivityType::EbookDownload,     0.015,  0.4, 0.3,  MANY, Gate::Always),
    inbound(ActivityType::BlogDownload,      0.019,  0.2, 0.1,  MANY, Gate::Always),
    inbound(ActivityType::EmailOpen,         0.045,  0.4, 0.05, MANY, Gate::Always),
    Inbound { kind: EventKind::EmailClick, base: 0.022, elasticity: 0.6, weight: 0.3, cap: MANY, gate: Gate::Always },
    inbound(ActivityType::NewsletterSignup,  0.008,  0.2, 0.2,  1,    Gate::Always),
    inbound(ActivityType::TrialSignup,       0.006,  0.5, 1.0,  1,    Gate::Always),
    inbound(ActivityType::TeammateInvited,   0.04,   0.7, 0.6,  MANY, Gate::Trial),
    inbound(ActivityType::CoreFeatureUsed,   0.11,   0.6, 0.2,  MANY, Gate::Trial),
];

/// Seconds on the site of one `website_visit`: `45 · exp(0.3 · intent + 0.8 · N(0,1))`,
/// rounded, 1 to 3,600.
pub(super) fn visit_seconds(intent: f64, noise: f64) -> f64 {
    (45.0 * (0.3 * intent + 0.8 * noise).exp())
        .round()
        .clamp(1.0, 3_600.0)
}
