//! The contact: seniority, job title and email address.
//!
//! Titles are chosen per seniority level so that core's `seniority_from_title` recovers the
//! level (the record usually carries only the title, as CRM exports do). Names and company
//! domains are invented (`.example`, RFC 2606); personal addresses use real free-mail domains
//! so that core's email classifier sees them as personal.

use qualify_core::lead::Seniority;
use rand::RngExt;
use rand::rngs::StdRng;

use super::{chance, pick};

/// Job titles per seniority; each maps back to its level through
/// `qualify_core::lead::seniority_from_title` (a test holds this).
pub(super) const TITLES: &[(Seniority, &[&str])] = &[
    (
        Seniority::Intern,
        &[
            "Marketing Intern",
            "Sales Intern",
            "Graduate Trainee",
            "Student",
        ],
    ),
    (
        Seniority::IndividualContributor,
        &[
            "Software Engineer",
            "Marketing Executive",
            "Data Analyst",
            "Account Executive",
            "Sales Development Representative",
            "Operations Specialist",
        ],
    ),
    (
        Seniority::Manager,
        &[
            "Marketing Manager",
            "Sales Manager",
            "IT Manager",
            "Product Manager",
            "Growth Team Lead",
        ],
    ),
    (
        Seniority::Director,
        &[
            "Marketing Director",
            "Director of IT",
            "Head of Revenue Operations",
            "Sales Director",
        ],
    ),
    (
        Seniority::Vp,
        &["VP Sales", "VP Marketing", "Vice President, Engineering"],
    ),
    (
        Seniority::CLevel,
        &["CEO", "CTO", "Chief Marketing Officer", "Co-Founder"],
    ),
];

const FIRST_NAMES: &[&str] = &[
    "ada", "bram", "cleo", "dev", "elif", "finn", "greta", "hugo", "ines", "jonas", "kara", "luca",
    "mira", "nils", "olga", "priya", "quinn", "rosa", "sven", "tara",
];
const LAST_NAMES: &[&str] = &[
    "testwood",
    "mockley",
    "sampleton",
    "fakeham",
    "dummett",
    "placeholt",
    "stubbington",
    "fixtureson",
    "exampleby",
    "nullford",
    "syntheson",
    "proxley",
    "loremby",
    "ipsumford",
];
const COMPANY_WORDS: &[&str] = &[
    "acme",
    "bluefern",
    "northwind",
    "quill",
    "nimbus",
    "copperleaf",
    "orbit",
    "tangent",
    "lumen",
    "harbor",
    "kestrel",
    "ember",
    "cobalt",
    "maple",
    "vertex",
    "pebble",
];
const COMPANY_KINDS: &[&str] = &[
    "labs", "systems", "works", "cloud", "group", "partners", "co",
];
/// Free-mail domains (all in core's personal list); the people using them are invented.
const PERSONAL_DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.co.uk",
    "hotmail.com",
    "outlook.com",
    "gmx.de",
    "orange.fr",
    "icloud.com",
];

/// The person behind a lead.
#[derive(Debug, Clone)]
pub(super) struct Contact {
    pub seniority: Seniority,
    pub job_title: &'static str,
    pub email: String,
    pub personal_email: bool,
}

/// Draws a contact at a company of `employees` people, `served` if in a served country.
pub(super) fn draw(rng: &mut StdRng, employees: f64, served: bool) -> Contact {
    let seniority = draw_seniority(rng, employees);
    let titles = TITLES
        .iter()
        .find(|(s, _)| *s == seniority)
        .map_or(&["Analyst"][..], |t| t.1);
    let job_title = titles[rng.random_range(0..titles.len())];

    // Students, interns and one-person companies sign up with free-mail addresses.
    let mut personal_p = 0.14;
    if seniority == Seniority::Intern {
        personal_p += 0.35;
    }
    if employees < 10.0 {
        personal_p += 0.15;
    }
    if !served {
        personal_p += 0.05;
    }
    let personal_email = chance(rng, personal_p);
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let email = if personal_email {
        let domain = PERSONAL_DOMAINS[rng.random_range(0..PERSONAL_DOMAINS.len())];
        format!("{first}.{last}{}@{domain}", rng.random_range(1..100))
    } else {
        let word = COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())];
        let kind = COMPANY_KINDS[rng.random_range(0..COMPANY_KINDS.len())];
        format!("{first}.{last}@{word}-{kind}.example")
    };
    Contact {
        seniority,
        job_title,
        email,
        personal_email,
    }
}

/// Contribution of the contact's level to fit: decision-makers fit, interns do not.
pub(super) fn seniority_fit(s: Seniority) -> f64 {
    match s {
        Seniority::Intern => -1.3,
        Seniority::IndividualContributor => -0.4,
        Seniority::Manager => 0.1,
        Seniority::Director => 0.6,
        Seniority::Vp => 0.7,
        Seniority::CLevel => 0.5,
    }
}

/// Small companies are often represented by a founder; large ones rarely.
fn draw_seniority(rng: &mut StdRng, employees: f64) -> Seniority {
    use Seniority::*;
    let small = employees < 30.0;
    let items = [
        (Intern, 0.06),
        (IndividualContributor, 0.38),
        (Manager, 0.26),
        (Director, if small { 0.08 } else { 0.15 }),
        (Vp, if small { 0.02 } else { 0.08 }),
        (CLevel, if small { 0.25 } else { 0.05 }),
    ];
    *pick(rng, &items)
}
