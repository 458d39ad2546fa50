//! Who the lead is: company (firmographic, technographic) and contact, and the latent fit.
//!
//! The true profile is drawn complete; [`Profile::observe`] then hides fields at the rates a
//! CRM export shows (docs/synthetic-data.md, "Missingness"), so conversion depends on the truth
//! while a model only sees what a CRM would record.

use qualify_core::lead::{LeadRecord, Seniority};
use rand::rngs::StdRng;

use super::{chance, contact, normal, pick, stack};

/// Industry: name, share of leads, fit contribution, median employees, median revenue per
/// employee (USD).
const INDUSTRIES: &[(&str, f64, f64, f64, f64)] = &[
    ("saas", 0.24, 0.8, 150.0, 180_000.0),
    ("fintech", 0.12, 0.6, 200.0, 260_000.0),
    ("healthcare", 0.12, 0.1, 300.0, 130_000.0),
    ("retail", 0.13, -0.1, 250.0, 160_000.0),
    ("manufacturing", 0.13, 0.0, 400.0, 210_000.0),
    ("education", 0.10, -0.5, 120.0, 70_000.0),
    ("other", 0.16, -0.3, 80.0, 120_000.0),
];

/// Country: ISO code, share of leads, served by the default rules (UK and EU).
const COUNTRIES: &[(&str, f64, bool)] = &[
    ("GB", 0.30, true),
    ("IE", 0.05, true),
    ("DE", 0.11, true),
    ("FR", 0.09, true),
    ("NL", 0.06, true),
    ("ES", 0.05, true),
    ("SE", 0.03, true),
    ("US", 0.15, false),
    ("AU", 0.05, false),
    ("IN", 0.07, false),
    ("BR", 0.02, false),
    ("ZA", 0.02, false),
];

/// The complete, true profile of one lead.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub industry: &'static str,
    pub employees: u64,
    pub annual_revenue: f64,
    pub country: &'static str,
    pub served: bool,
    pub seniority: Seniority,
    pub job_title: &'static str,
    pub email: String,
    pub personal_email: bool,
    pub crm: &'static str,
    pub marketing_automation: &'static str,
    pub tech_stack: Vec<&'static str>,
    /// Latent profile fit (about N(0, 1)); drives engagement and conversion.
    pub fit: f64,
}

/// Draws a complete profile.
pub(super) fn draw(rng: &mut StdRng) -> Profile {
    let industry_items: Vec<(usize, f64)> = INDUSTRIES
        .iter()
        .enumerate()
        .map(|(i, row)| (i, row.1))
        .collect();
    let (industry, _, industry_fit, median_employees, revenue_per_employee) =
        INDUSTRIES[*pick(rng, &industry_items)];
    let employees = (median_employees.ln() + 1.3 * normal(rng))
        .exp()
        .round()
        .clamp(1.0, 250_000.0);
    let annual_revenue =
        (employees * revenue_per_employee * (0.45 * normal(rng)).exp() / 1_000.0).round() * 1_000.0;
    let country_items: Vec<(usize, f64)> = COUNTRIES
        .iter()
        .enumerate()
        .map(|(i, row)| (i, row.1))
        .collect();
    let (country, _, served) = COUNTRIES[*pick(rng, &country_items)];

    let contact = contact::draw(rng, employees, served);
    let stack = stack::draw(rng, industry, employees);
    let fit = industry_fit
        + size_fit(employees)
        + contact::seniority_fit(contact.seniority)
        + stack.fit()
        + 0.6 * normal(rng);
    Profile {
        industry,
        employees: employees as u64,
        annual_revenue,
        country,
        served,
        seniority: contact.seniority,
        job_title: contact.job_title,
        email: contact.email,
        personal_email: contact.personal_email,
        crm: stack.crm,
        marketing_automation: stack.marketing_automation,
        tech_stack: stack.tech_stack,
        fit,
    }
}

/// Company size fit: a bump over the ideal 200–2,000 employees.
fn size_fit(employees: f64) -> f64 {
    let d = (employees.ln() - 600f64.ln()) / 1.1;
    (-0.5 * d * d).exp() - 0.4
}

impl Profile {
    /// The record a CRM would hold: the profile with fields hidden at documented rates.
    pub(super) fn observe(&self, rng: &mut StdRng) -> LeadRecord {
        let keep = |rng: &mut StdRng, missing: f64| !chance(rng, missing);
        let email = keep(rng, 0.03).then(|| self.email.clone());
        let job_title = keep(rng, 0.10).then(|| self.job_title.to_string());
        // A CRM picklist sometimes records the level when the title is missing.
        let seniority = (job_title.is_none() && chance(rng, 0.4)).then_some(self.seniority);
        let industry = keep(rng, 0.08).then(|| self.industry.to_string());
        // Small companies are less often enriched: size and revenue are missing not at random.
        let small = self.employees < 50;
        let employees = keep(rng, if small { 0.28 } else { 0.13 }).then_some(self.employees);
        let annual_revenue =
            keep(rng, if small { 0.45 } else { 0.27 }).then_some(self.annual_revenue);
        let country = keep(rng, 0.04).then(|| self.country.to_string());
        let crm = keep(rng, 0.20).then(|| self.crm.to_string());
        let marketing_automation = keep(rng, 0.25).then(|| self.marketing_automation.to_string());
        let tech_stack = if keep(rng, 0.30) {
            self.tech_stack.iter().map(|t| t.to_string()).collect()
        } else {
            Vec::new()
        };
        LeadRecord {
            email,
            job_title,
            seniority,
            industry,
            employees,
            annual_revenue,
            country,
            crm,
            marketing_automation,
            tech_stack,
            ..LeadRecord::default()
        }
    }
}
