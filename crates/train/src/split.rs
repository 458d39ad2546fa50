//! Splitting rows: the held-out test split and the cross-validation folds.
//!
//! Pure index functions over labels (and times), so they live beside the trainer that uses
//! them and need no data library. Stratification keeps each part's conversion rate equal to
//! the whole's, which matters with rare conversions.
//!
//! **Groups.** Point-in-time rows (docs/history.md) hold several moments of one lead, nearly
//! alike: a fold or a test part that held some of a lead's moments while training saw the
//! others would measure memory, not prediction. With groups (a group id per row), every
//! split here keeps a group's rows together: [`grouped_time_split`] tests on the latest
//! groups (leads by creation), [`grouped_folds`] and [`grouped_stratified_split`] stratify
//! by whether a group holds a positive row.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Row indices of the training and the test part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// A stratified random split: `test_fraction` of each class (rounded) goes to test.
pub fn stratified_split(labels: &[bool], test_fraction: f64, seed: u64) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n_test = (rows.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

/// A split by time: the latest `test_fraction` of rows (by `times`, ties by row order) is the
/// test part, so the model is judged on leads that arrived after those it learned from.
pub fn time_split<T: Ord>(times: &[T], test_fraction: f64) -> Split {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[a].cmp(&times[b]).then(a.cmp(&b)));
    let n_test = (times.len() as f64 * test_fraction).round() as usize;
    let (train, test) = order.split_at(times.len() - n_test);
    let (mut train, mut test) = (train.to_vec(), test.to_vec());
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

/// Stratified k-fold assignment: the fold (0..k) of each row. Each class is shuffled and dealt
/// round-robin, so every fold holds nearly the same number of each class.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut fold = vec![0; labels.len()];
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        // Continue the round-robin across classes so small folds stay balanced in size too.
        let offset = if class {
            labels.iter().filter(|&&y| !y).count()
        } else {
            0
        };
        for (i, row) in rows.into_iter().enumerate() {
            fold[row] = (i + offset) % k;
        }
    }
    fold
}

/// Rows of each group, groups numbered densely in order of first appearance.
fn group_rows(groups: &[usize]) -> Vec<Vec<usize>> {
    let mut dense = std::collections::HashMap::new();
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for (row, &g) in groups.iter().enumerate() {
        let next = rows.len();
        let id = *dense.entry(g).or_insert(next);
        if id == next {
            rows.push(Vec::new());
        }
        rows[id].push(row);
    }
    rows
}

/// The groups holding at least one positive row, then the others, each shuffled.
fn shuffled_by_class(members: &[Vec<usize>], labels: &[bool], rng: &mut StdRng) -> [Vec<usize>; 2] {
    let (mut positive, mut negative): (Vec<usize>, Vec<usize>) =
        (0..members.len()).partition(|&g| members[g].iter().any(|&r| labels[r]));
    positive.shuffle(rng);
    negative.shuffle(rng);
    [positive, negative]
}

/// A split by time of groups: the latest `test_fraction` of the groups that have rows (by
/// `group_times`, ties by group number) is the test part, with all their rows.
/// `groups[row]` indexes `group_times`.
pub fn grouped_time_split<T: Ord>(
    groups: &[usize],
    group_times: &[T],
    test_fraction: f64,
) -> Split {
    let mut present = vec![false; group_times.len()];
    for &g in groups {
        present[g] = true;
    }
    let mut order: Vec<usize> = (0..group_times.len()).filter(|&g| present[g]).collect();
    order.sort_by(|&a, &b| group_times[a].cmp(&group_times[b]).then(a.cmp(&b)));
    let n_test = (order.len() as f64 * test_fraction).round() as usize;
    let mut in_test = vec![false; group_times.len()];
    for &g in &order[order.len() - n_test..] {
        in_test[g] = true;
    }
    let (test, train): (Vec<usize>, Vec<usize>) =
        (0..groups.len()).partition(|&r| in_test[groups[r]]);
    Split { train, test }
}

/// A stratified random split of groups: `test_fraction` of the groups holding a positive row
/// (rounded), and of the others, go to test with all their rows.
pub fn grouped_stratified_split(
    labels: &[bool],
    groups: &[usize],
    test_fraction: f64,
    seed: u64,
) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let members = group_rows(groups);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in shuffled_by_class(&members, labels, &mut rng) {
        let n_test = (class.len() as f64 * test_fraction).round() as usize;
        for (i, &g) in class.iter().enumerate() {
            let part = if i < n_test { &mut test } else { &mut train };
            part.extend_from_slice(&members[g]);
        }
    }
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

/// Grouped, stratified k-fold assignment: the fold (0..k) of each row, every row of a group
/// in the same fold. Groups holding a positive row go first, each to the fold with the fewest
/// positive rows so far, then the others, each to the fold with the fewest rows (ties: the
/// lower fold), both in a shuffled order.
pub fn grouped_folds(labels: &[bool], groups: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let members = group_rows(groups);
    let mut fold = vec![0; labels.len()];
    let mut positives = vec![0usize; k.max(1)];
    let mut rows = vec![0usize; k.max(1)];
    let [with_positive, without] = shuffled_by_class(&members, labels, &mut rng);
    for (class, order) in [(true, with_positive), (false, without)] {
        for g in order {
            let f = (0..rows.len())
                .min_by_key(|&f| (if class { positives[f] } else { 0 }, rows[f], f))
                .unwrap_or(0);
            for &r in &members[g] {
                fold[r] = f;
                rows[f] += 1;
                positives[f] += usize::from(labels[r]);
            }
        }
    }
    fold
}

/// The folds of rows: [`grouped_folds`] with groups, else [`stratified_folds`].
pub fn assign_folds(labels: &[bool], groups: Option<&[usize]>, k: usize, seed: u64) -> Vec<usize> {
    match groups {
        Some(groups) => grouped_folds(labels, groups, k, seed),
        None => stratified_folds(labels, k, seed),
    }
}

/// A random stratified split of rows: grouped with groups, else [`stratified_split`].
pub fn assign_split(
    labels: &[bool],
    groups: Option<&[usize]>,
    test_fraction: f64,
    seed: u64,
) -> Split {
    match groups {
        Some(groups) => grouped_stratified_split(labels, groups, test_fraction, seed),
        None => stratified_split(labels, test_fraction, seed),
    }
}

/// How many groups hold a positive row and how many hold none.
pub fn group_classes(labels: &[bool], groups: &[usize]) -> (usize, usize) {
    let members = group_rows(groups);
    let positive = members
        .iter()
        .filter(|m| m.iter().any(|&r| labels[r]))
        .count();
    (positive, members.len() - positive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<bool> {
        (0..1000).map(|i| i % 10 == 0).collect()
    }

    #[test]
    fn stratified_split_keeps_the_rate_and_partitions() {
        let y = labels();
        let s = stratified_split(&y, 0.2, 42);
        assert_eq!(s.test.len(), 200);
        assert_eq!(s.test.iter().filter(|&&i| y[i]).count(), 20);
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(s, stratified_split(&y, 0.2, 42), "deterministic for a seed");
        assert_ne!(s, stratified_split(&y, 0.2, 7));
    }

    #[test]
    fn time_split_tests_on_the_latest_rows() {
        let times = [5, 1, 4, 2, 3];
        let s = time_split(&times, 0.4);
        assert_eq!(s.test, vec![0, 2]);
        assert_eq!(s.train, vec![1, 3, 4]);
    }

    #[test]
    fn folds_are_balanced() {
        let y = labels();
        let folds = stratified_folds(&y, 5, 42);
        for f in 0..5 {
            let rows: Vec<usize> = (0..y.len()).filter(|&i| folds[i] == f).collect();
            assert_eq!(rows.len(), 200);
            assert_eq!(rows.iter().filter(|&&i| y[i]).count(), 20);
        }
    }

    /// Leads of one to five moments, a positive moment in about a fifth of them.
    fn grouped() -> (Vec<bool>, Vec<usize>) {
        let mut y = Vec::new();
        let mut g = Vec::new();
        for lead in 0..400 {
            for m in 0..(1 + lead % 5) {
                g.push(lead);
                y.push(lead % 5 == 2 && m == 0 || lead % 7 == 0);
            }
        }
        (y, g)
    }

    #[test]
    fn grouped_folds_keep_leads_together_and_balance_positives() {
        let (y, g) = grouped();
        let folds = grouped_folds(&y, &g, 5, 42);
        for r in 0..y.len() {
            let first = g.iter().position(|&x| x == g[r]).expect("group");
            assert_eq!(folds[r], folds[first], "row {r} left its lead");
        }
        let pos: Vec<usize> = (0..5)
            .map(|f| (0..y.len()).filter(|&i| folds[i] == f && y[i]).count())
            .collect();
        let rows: Vec<usize> = (0..5)
            .map(|f| folds.iter().filter(|&&x| x == f).count())
            .collect();
        let spread = |v: &[usize]| v.iter().max().unwrap_or(&0) - v.iter().min().unwrap_or(&0);
        assert!(spread(&pos) <= 5, "{pos:?}");
        assert!(spread(&rows) <= 10, "{rows:?}");
        assert_eq!(
            folds,
            grouped_folds(&y, &g, 5, 42),
            "deterministic for a seed"
        );
        assert_eq!(group_classes(&y, &g), (126, 274));
    }

    #[test]
    fn grouped_splits_keep_leads_together() {
        let (y, g) = grouped();
        let times: Vec<i64> = (0..400).map(|lead| (lead * 37 % 400) as i64).collect();
        let s = grouped_time_split(&g, &times, 0.2);
        let test_leads: std::collections::BTreeSet<usize> = s.test.iter().map(|&r| g[r]).collect();
        assert_eq!(test_leads.len(), 80);
        let latest = s.train.iter().map(|&r| times[g[r]]).max().expect("train");
        assert!(
            s.test.iter().all(|&r| times[g[r]] > latest),
            "test leads are the latest"
        );
        assert_eq!(s.train.len() + s.test.len(), y.len());
        let r = grouped_stratified_split(&y, &g, 0.1, 7);
        let train_leads: std::collections::BTreeSet<usize> =
            r.train.iter().map(|&i| g[i]).collect();
        assert!(r.test.iter().all(|&i| !train_leads.contains(&g[i])));
        assert!(r.test.iter().any(|&i| y[i]) && r.test.iter().any(|&i| !y[i]));
    }
}
