//! The events of many leads, grouped by lead and sorted by time: what the batch feature code
//! reads.
//!
//! Why a dedicated type: features at a moment read only a lead's events strictly before it,
//! so the batch path wants each lead's events contiguous and in time order (one binary
//! search per moment), and types interned to small integers (a column index, no string
//! compares per event). [`EventLogBuilder`] takes events in any order; [`EventLog::for_spec`]
//! keeps the types a model knows, renumbered in the spec's order, which is what
//! [`HistorySpec::features_at`](super::HistorySpec::features_at) reads.

use std::collections::HashMap;

use crate::lead::EventType;

/// One event as the feature code reads it: when (milliseconds since the Unix epoch, UTC) and
/// its type (an index into the log's or the spec's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ev {
    pub at: i64,
    pub kind: u32,
}

/// Events grouped by lead (`0..leads`), each lead's in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventLog {
    types: Vec<EventType>,
    /// `starts[lead]..starts[lead + 1]` are the lead's events.
    starts: Vec<usize>,
    events: Vec<Ev>,
}

impl EventLog {
    /// Number of leads.
    pub fn leads(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The types `Ev::kind` indexes.
    pub fn types(&self) -> &[EventType] {
        &self.types
    }

    /// One lead's events, in time order (ties in the order they were pushed).
    pub fn lead(&self, lead: usize) -> &[Ev] {
        match (self.starts.get(lead), self.starts.get(lead + 1)) {
            (Some(&a), Some(&b)) => &self.events[a..b],
            _ => &[],
        }
    }

    /// The events of `known` types only, their kinds renumbered as indices into `known`;
    /// with the number of events left out.
    pub fn for_spec(&self, known: &[EventType]) -> (EventLog, usize) {
        let position: HashMap<&EventType, u32> = known
            .iter()
            .enumerate()
            .map(|(i, t)| (t, i as u32))
            .collect();
        let remap: Vec<Option<u32>> = self
            .types
            .iter()
            .map(|t| position.get(t).copied())
            .collect();
        let mut starts = Vec::with_capacity(self.starts.len());
        let mut events = Vec::with_capacity(self.events.len());
        starts.push(0);
        for lead in 0..self.leads() {
            events.extend(
                self.lead(lead)
                    .iter()
                    .filter_map(|e| remap[e.kind as usize].map(|kind| Ev { at: e.at, kind })),
            );
            starts.push(events.len());
        }
        let dropped = self.events.len() - events.len();
        (
            EventLog {
                types: known.to_vec(),
                starts,
                events,
            },
            dropped,
        )
    }

    /// How many events of each type happened strictly before each lead's moment in
    /// `moments` (`(lead, at)` pairs); indexed like [`EventLog::types`].
    pub fn counts_before(&self, moments: &[(usize, i64)]) -> Vec<usize> {
        let mut counts = vec![0; self.types.len()];
        for &(lead, at) in moments {
            let events = self.lead(lead);
            let before = events.partition_point(|e| e.at < at);
            for e in &events[..before] {
                counts[e.kind as usize] += 1;
            }
        }
        counts
    }
}

/// Collects events in any order; [`EventLogBuilder::finish`] groups and sorts them.
#[derive(Debug, Clone, Default)]
pub struct EventLogBuilder {
    leads: usize,
    types: Vec<EventType>,
    index: HashMap<EventType, u32>,
    rows: Vec<(u32, Ev)>,
}

impl EventLogBuilder {
    /// A builder for leads `0..leads`.
    pub fn new(leads: usize) -> EventLogBuilder {
        EventLogBuilder {
            leads,
            ..EventLogBuilder::default()
        }
    }

    /// Adds an event of `lead` (which must be below the builder's lead count; others are
    /// ignored and reported as `false`).
    pub fn push(&mut self, lead: usize, at: i64, kind: &EventType) -> bool {
        if lead >= self.leads {
            return false;
        }
        let next = self.types.len() as u32;
        let kind = match self.index.get(kind) {
            Some(&k) => k,
            None => {
                self.types.push(kind.clone());
                self.index.insert(kind.clone(), next);
                next
            }
        };
        self.rows.push((lead as u32, Ev { at, kind }));
        true
    }

    /// Groups the events by lead and sorts each lead's by time (stable: ties keep the order
    /// they were pushed in).
    pub fn finish(self) -> EventLog {
        let mut starts = vec![0usize; self.leads + 1];
        for (lead, _) in &self.rows {
            starts[*lead as usize + 1] += 1;
        }
        for i in 0..self.leads {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut events = vec![Ev { at: 0, kind: 0 }; self.rows.len()];
        for (lead, ev) in self.rows {
            let slot = &mut next[lead as usize];
            events[*slot] = ev;
            *slot += 1;
        }
        for lead in 0..self.leads {
            events[starts[lead]..starts[lead + 1]].sort_by_key(|e| e.at);
        }
        EventLog {
            types: self.types,
            starts,
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> EventType {
        EventType::new(s).expect("type")
    }

    #[test]
    fn groups_sorts_and_restricts() {
        let mut b = EventLogBuilder::new(3);
        assert!(b.push(2, 30, &t("a")));
        assert!(b.push(0, 20, &t("b")));
        assert!(b.push(2, 10, &t("b")));
        assert!(b.push(0, 5, &t("a")));
        assert!(!b.push(3, 5, &t("a")), "lead out of range");
        let log = b.finish();
        assert_eq!(log.leads(), 3);
        assert_eq!(log.len(), 4);
        assert_eq!(log.types(), &[t("a"), t("b")]);
        assert_eq!(
            log.lead(0),
            &[Ev { at: 5, kind: 0 }, Ev { at: 20, kind: 1 }]
        );
        assert_eq!(log.lead(1), &[]);
        assert_eq!(
            log.lead(2),
            &[Ev { at: 10, kind: 1 }, Ev { at: 30, kind: 0 }]
        );
        let (only_b, dropped) = log.for_spec(&[t("c"), t("b")]);
        assert_eq!(dropped, 2);
        assert_eq!(only_b.lead(0), &[Ev { at: 20, kind: 1 }]);
        assert_eq!(only_b.lead(2), &[Ev { at: 10, kind: 1 }]);
        assert_eq!(log.counts_before(&[(0, 20), (2, 31)]), vec![2, 1]);
    }
}
