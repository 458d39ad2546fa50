//! Leads per second for `rules/default.toml` on one core, records already parsed.
//!
//! `cargo bench -p qualify-rules --bench evaluate`; criterion reports throughput in
//! elements (leads) per second.

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_core::lead::{Activity, ActivityType, LeadRecord};
use qualify_rules::{CompiledRules, RuleOutcome};

const DEFAULT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/default.toml"
));
const LEADS: usize = 4096;

/// A small deterministic generator (no rand dependency in a bench).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn leads(as_of: DateTime<Utc>) -> Vec<LeadRecord> {
    const TITLES: &[&str] = &[
        "Marketing Director",
        "VP Sales",
        "CEO",
        "Product Manager",
        "Engineer",
        "Marketing Intern",
        "Head of Growth",
        "",
    ];
    const INDUSTRIES: &[&str] = &["saas", "SaaS", "fintech", "healthcare", "retail"];
    const COUNTRIES: &[&str] = &["GB", "DE", "FR", "US", "AU", "IE", "IN"];
    const DOMAINS: &[&str] = &["acme.io", "gmail.com", "corp.co.uk", "hotmail.com"];
    let mut r = Lcg(42);
    (0..LEADS)
        .map(|i| {
            let activities = (0..r.next(10))
                .map(|_| {
                    Activity::new(
                        ActivityType::ALL[r.next(ActivityType::ALL.len())],
                        as_of - Duration::days(r.next(365) as i64),
                    )
                })
                .collect();
            LeadRecord {
                id: Some(format!("L{i}")),
                email: Some(format!("x@{}", DOMAINS[r.next(DOMAINS.len())])),
                job_title: Some(TITLES[r.next(TITLES.len())].to_string()),
                industry: Some(INDUSTRIES[r.next(INDUSTRIES.len())].to_string()),
                employees: Some([10, 50, 250, 500, 900, 5000][r.next(6)]),
                country: Some(COUNTRIES[r.next(COUNTRIES.len())].to_string()),
                budget_confirmed: [None, Some(true), Some(false)][r.next(3)],
                need_confirmed: [None, Some(true)][r.next(2)],
                timeline_days: [None, Some(30), Some(90), Some(365)][r.next(4)],
                activities,
                ..LeadRecord::default()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let as_of = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    let rules =
        CompiledRules::from_text(DEFAULT, "rules/default.toml").expect("default rules compile");
    let leads = leads(as_of);
    let mut group = c.benchmark_group("default_rules");
    group.throughput(Throughput::Elements(LEADS as u64));
    group.bench_function("evaluate_into", |b| {
        let mut out = RuleOutcome::default();
        b.iter(|| {
            for lead in &leads {
                rules.evaluate_into(lead, as_of, &mut out);
                std::hint::black_box(&out);
            }
        })
    });
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            for lead in &leads {
                std::hint::black_box(rules.evaluate(lead, as_of));
            }
        })
    });
    group.finish();
    cpu_time_throughput("titles only", &rules, &leads, as_of);
    // The same leads with seniority sent (not derived from the title by core).
    let given: Vec<LeadRecord> = leads
        .iter()
        .map(|l| LeadRecord {
            seniority: l.effective_seniority(),
            ..l.clone()
        })
        .collect();
    cpu_time_throughput("seniority given", &rules, &given, as_of);
}

/// CPU time this thread has run, from the scheduler (Linux), in nanoseconds.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// On a shared machine wall time undercounts one core's speed; this divides by the CPU time
/// the thread actually ran instead.
fn cpu_time_throughput(
    label: &str,
    rules: &CompiledRules,
    leads: &[LeadRecord],
    as_of: DateTime<Utc>,
) {
    let mut out = RuleOutcome::default();
    let (Some(start), wall) = (thread_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    let passes = 200;
    for _ in 0..passes {
        for lead in leads {
            rules.evaluate_into(lead, as_of, &mut out);
            std::hint::black_box(&out);
        }
    }
    let Some(end) = thread_cpu_ns() else { return };
    let n = (passes * leads.len()) as f64;
    let cpu = (end - start) as f64 / 1e9;
    println!(
        "evaluate_into ({label}): {:.0} leads/s per CPU-second ({:.0} leads/s wall clock), {:.0} ns/lead",
        n / cpu,
        n / wall.elapsed().as_secs_f64(),
        cpu * 1e9 / n
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
