//! Splitting rows: the held-out test split and the cross-validation folds.
//!
//! Pure index functions over labels (and times), so they live beside the trainer that uses
//! them and need no data library. Stratification keeps each part's conversion rate equal to
//! the whole's, which matters with rare conversions.

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
}
