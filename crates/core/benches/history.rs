//! Point-in-time features: 1,000,000 events of 20,000 leads over 100,000 moments (five per
//! lead), by the batch path the trainer uses (`HistorySpec::batch_features`, all cores), with
//! the log's grouping and restriction to the model's types measured apart; and the record
//! path the server uses, per lead (50 activities, one moment).

use std::hint::black_box;

use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_core::history::{DAY_MS, EventLog, EventLogBuilder, HistorySpec, Moment};
use qualify_core::lead::{Activity, EventType};

const LEADS: usize = 20_000;
const EVENTS: usize = 1_000_000;
const MOMENTS_PER_LEAD: usize = 5;
/// Sixteen event types, twelve of which the model knows.
const TYPES: usize = 16;

/// A small deterministic generator (no dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn types() -> Vec<EventType> {
    (0..TYPES)
        .map(|t| EventType::new(&format!("type_{t:02}")).expect("type"))
        .collect()
}

fn spec() -> HistorySpec {
    HistorySpec::new(types()[..12].to_vec(), "created_at")
}

/// Creation times over 540 days, events over each lead's first 200 days, moments at the
/// default offsets.
fn data() -> (EventLog, Vec<i64>, Vec<Moment>) {
    let mut r = Lcg(42);
    let created: Vec<i64> = (0..LEADS)
        .map(|_| r.next(540 * 24) as i64 * 3_600_000)
        .collect();
    let all = types();
    let mut builder = EventLogBuilder::new(LEADS);
    for _ in 0..EVENTS {
        let lead = r.next(LEADS as u64) as usize;
        let at = created[lead] + r.next(200 * 24 * 60) as i64 * 60_000;
        builder.push(lead, at, &all[r.next(TYPES as u64) as usize]);
    }
    let offsets = [0, 7, 14, 30, 60];
    let moments = (0..LEADS)
        .flat_map(|lead| {
            let c = created[lead];
            offsets[..MOMENTS_PER_LEAD].iter().map(move |&d| Moment {
                lead,
                at: c + d * DAY_MS,
            })
        })
        .collect();
    (builder.finish(), created, moments)
}

fn bench(c: &mut Criterion) {
    let spec = spec();
    let (log, created, moments) = data();
    let (known, _) = log.for_spec(&spec.event_types);
    let mut group = c.benchmark_group("history_features");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("batch_1m_events_100k_moments", |b| {
        b.iter(|| black_box(spec.batch_features(&known, &created, &moments)))
    });
    group.bench_function("restrict_log_1m_events", |b| {
        b.iter(|| black_box(log.for_spec(&spec.event_types)))
    });
    group.finish();

    let all = types();
    let mut r = Lcg(7);
    let now = DateTime::from_timestamp_millis(200 * DAY_MS).expect("time");
    let activities: Vec<Activity> = (0..50)
        .map(|_| {
            let at =
                DateTime::from_timestamp_millis(r.next(200 * DAY_MS as u64) as i64).expect("time");
            Activity::new(all[r.next(TYPES as u64) as usize].clone(), at)
        })
        .collect();
    let mut group = c.benchmark_group("history_record");
    group.throughput(Throughput::Elements(1));
    group.bench_function("record_50_activities", |b| {
        b.iter(|| black_box(spec.record_features(&activities, Some(now), now)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
