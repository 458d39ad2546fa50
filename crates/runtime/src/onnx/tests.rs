use super::*;
use qualify_onnx::{Dim, ModelBuilder, logistic_to_onnx};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn random(rng: &mut StdRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
}

#[test]
fn round_trip_matches_a_direct_dot_product() {
    let mut rng = StdRng::seed_from_u64(7);
    let n_features = 17;
    let weights = random(&mut rng, n_features);
    let bias = rng.random_range(-1.0f32..1.0);
    let bytes = logistic_to_onnx(&weights, bias, "test").expect("export");
    let model = OnnxModel::from_bytes(&bytes).expect("load");
    assert_eq!(model.n_features(), n_features);
    assert_eq!(model.native_kind(), NativeKind::Linear);
    for rows in [1, 7, 1000] {
        let x = random(&mut rng, rows * n_features);
        let got = model.logits(&x, rows).expect("score");
        assert_eq!(got.len(), rows);
        for (row, &logit) in x.chunks(n_features).zip(&got) {
            let expected = f64::from(bias)
                + row
                    .iter()
                    .zip(&weights)
                    .map(|(&a, &w)| f64::from(a) * f64::from(w))
                    .sum::<f64>();
            assert!(
                (logit - expected).abs() < 1e-5,
                "rows={rows}: got {logit}, expected {expected}"
            );
            // One row alone scores as in the batch, to the bit.
            assert_eq!(model.logit(row).expect("one row"), logit);
        }
        // The native dot product against tract's graph (f32 sums): the same within f32's
        // rounding.
        let tract = model.tract_logits(&x, rows).expect("tract");
        for (&native, &tract) in got.iter().zip(&tract) {
            assert!(
                (native - f64::from(tract)).abs() < 1e-5,
                "{native} vs {tract}"
            );
        }
    }
    assert_eq!(
        model.logits(&[], 0).expect("empty batch"),
        Vec::<f64>::new()
    );
}

#[test]
fn model_is_shareable_across_threads() {
    let bytes = logistic_to_onnx(&[1.0, -1.0], 0.5, "test").expect("export");
    let model = Arc::new(OnnxModel::from_bytes(&bytes).expect("load"));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let model = Arc::clone(&model);
            std::thread::spawn(move || model.logits(&[i as f32, 1.0], 1).expect("score"))
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().expect("thread"), vec![i as f64 - 0.5]);
    }
    assert!(format!("{model:?}").contains("n_features: 2"));
}

#[test]
fn wrong_input_length_is_an_error() {
    let bytes = logistic_to_onnx(&[1.0, 2.0, 3.0], 0.0, "test").expect("export");
    let model = OnnxModel::from_bytes(&bytes).expect("load");
    let err = model.logits(&[1.0; 8], 3).expect_err("8 != 3 * 3");
    assert!(
        matches!(
            err,
            GraphError::InputLength {
                len: 8,
                rows: 3,
                n_features: 3
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("= 9"), "{err}");
    assert!(model.logits(&[1.0; 3], usize::MAX).is_err());
}

#[test]
fn corrupt_bytes_are_a_contract_error() {
    let bytes = logistic_to_onnx(&[1.0, 2.0], 0.0, "test").expect("export");
    for corrupt in [
        b"definitely not onnx".to_vec(),
        vec![0xff; 64],
        bytes[..bytes.len() / 2].to_vec(),
        Vec::new(),
    ] {
        let err = OnnxModel::from_bytes(&corrupt).expect_err("corrupt");
        assert!(matches!(err, GraphError::Contract(_)), "{err}");
    }
}

/// `features` f32 [N, `declared`] times `W` of shape `w_dims` + B, output `out` [N, 1].
fn linear(declared: usize, w_dims: &[usize], out: &str) -> Vec<u8> {
    let n_w: usize = w_dims.iter().product();
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::batch(), Dim::Fixed(declared)])
        .initializer_f32("W", w_dims, &vec![0.5; n_w])
        .expect("W")
        .initializer_f32("B", &[1], &[0.0])
        .expect("B");
    b.node("MatMul", &["features", "W"], &["xw"]);
    b.node("Add", &["xw", "B"], &[out]);
    b.output(out, &[Dim::batch(), Dim::Fixed(1)]);
    b.to_bytes("test")
}

#[test]
fn builder_model_matching_the_contract_loads() {
    let model = OnnxModel::from_bytes(&linear(4, &[4, 1], "logit")).expect("load");
    assert_eq!(
        model.logits(&[1.0, 1.0, 1.0, 1.0], 1).expect("score"),
        vec![2.0]
    );
}

#[test]
fn weights_not_matching_the_input_width_are_a_tract_error() {
    let err = OnnxModel::from_bytes(&linear(5, &[3, 1], "logit")).expect_err("F mismatch");
    assert!(matches!(err, GraphError::Tract { .. }), "{err}");
}

#[test]
fn contract_errors_come_from_qualify_onnx() {
    let err = OnnxModel::from_bytes(&linear(3, &[3, 1], "score")).expect_err("no logit");
    assert!(
        matches!(err, GraphError::Contract(ContractError::NoLogit { .. })),
        "{err}"
    );
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::batch(), Dim::Fixed(2)]);
    b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
    let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("dangling");
    assert!(err.to_string().contains("not produced"), "{err}");
}

#[test]
fn wrong_logit_rank_is_an_error() {
    // W of shape [F] makes MatMul produce [N], not [N, 1].
    let err = OnnxModel::from_bytes(&linear(3, &[3], "logit")).expect_err("rank 1");
    assert!(matches!(err, GraphError::LogitShape { .. }), "{err}");
    assert!(err.to_string().contains("expected [N, 1]"), "{err}");
}

#[test]
fn unsupported_operator_is_a_tract_error() {
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::batch(), Dim::Fixed(2)]);
    b.node("NoSuchOp", &["features"], &["logit"]);
    b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
    let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("unknown op");
    assert!(
        matches!(
            err,
            GraphError::Tract {
                stage: TractStage::Translate | TractStage::Optimise,
                ..
            }
        ),
        "{err}"
    );
}
