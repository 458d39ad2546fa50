//! Technographics: CRM, marketing automation and the wider tool stack.
//!
//! Larger companies run Salesforce or Dynamics, small ones HubSpot, Pipedrive or nothing;
//! the marketing-automation tool follows the CRM. The product being sold integrates with
//! Salesforce and enterprise marketing automation, so those add to fit.

use rand::rngs::StdRng;

use super::{chance, pick};

/// The tools a company uses.
#[derive(Debug, Clone)]
pub(super) struct Stack {
    pub crm: &'static str,
    pub marketing_automation: &'static str,
    /// Includes the CRM when there is one.
    pub tech_stack: Vec<&'static str>,
}

impl Stack {
    /// Contribution of the stack to fit.
    pub(super) fn fit(&self) -> f64 {
        let crm = match self.crm {
            "salesforce" => 0.5,
            "hubspot" | "dynamics" => 0.2,
            "none" => -0.4,
            _ => 0.0,
        };
        let ma = match self.marketing_automation {
            "marketo" | "pardot" => 0.3,
            "hubspot" => 0.15,
            "none" => -0.2,
            _ => 0.0,
        };
        let modern = self
            .tech_stack
            .iter()
            .any(|t| matches!(*t, "snowflake" | "segment"));
        crm + ma + if modern { 0.25 } else { 0.0 }
    }
}

/// CRM, marketing automation and the wider stack, by company size and industry.
pub(super) fn draw(rng: &mut StdRng, industry: &str, employees: f64) -> Stack {
    let crm_items: &[(&str, f64)] = if employees >= 500.0 {
        &[
            ("salesforce", 0.50),
            ("dynamics", 0.15),
            ("hubspot", 0.15),
            ("zoho", 0.05),
            ("none", 0.05),
            ("pipedrive", 0.02),
        ]
    } else if employees >= 50.0 {
        &[
            ("salesforce", 0.30),
            ("hubspot", 0.35),
            ("pipedrive", 0.10),
            ("zoho", 0.08),
            ("dynamics", 0.07),
            ("none", 0.10),
        ]
    } else {
        &[
            ("hubspot", 0.30),
            ("pipedrive", 0.15),
            ("zoho", 0.10),
            ("salesforce", 0.10),
            ("none", 0.35),
        ]
    };
    let crm = *pick(rng, crm_items);
    let ma_items: &[(&str, f64)] = match crm {
        "hubspot" => &[("hubspot", 0.70), ("mailchimp", 0.15), ("none", 0.15)],
        "salesforce" => &[
            ("pardot", 0.40),
            ("marketo", 0.30),
            ("hubspot", 0.10),
            ("none", 0.20),
        ],
        "none" => &[("mailchimp", 0.40), ("none", 0.60)],
        _ => &[
            ("marketo", 0.20),
            ("mailchimp", 0.35),
            ("hubspot", 0.15),
            ("none", 0.30),
        ],
    };
    let marketing_automation = *pick(rng, ma_items);
    let big = employees >= 200.0;
    let candidates: [(&str, f64); 12] = [
        ("slack", 0.6),
        (
            "jira",
            if industry == "saas" || industry == "fintech" {
                0.6
            } else {
                0.25
            },
        ),
        ("aws", 0.4),
        ("azure", 0.25),
        ("gcp", 0.15),
        ("snowflake", if big { 0.25 } else { 0.05 }),
        ("segment", if industry == "saas" { 0.3 } else { 0.08 }),
        ("zendesk", 0.2),
        ("intercom", if industry == "saas" { 0.3 } else { 0.08 }),
        ("shopify", if industry == "retail" { 0.5 } else { 0.02 }),
        (
            "sap",
            if industry == "manufacturing" && big {
                0.5
            } else {
                0.03
            },
        ),
        ("google_analytics", 0.5),
    ];
    let mut stack: Vec<&str> = Vec::new();
    if crm != "none" {
        stack.push(crm);
    }
    stack.extend(
        candidates
            .iter()
            .filter(|(_, p)| chance(rng, *p))
            .map(|(t, _)| *t),
    );
    Stack {
        crm,
        marketing_automation,
        tech_stack: stack,
    }
}
