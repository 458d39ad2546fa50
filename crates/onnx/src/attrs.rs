//! The one reader of node attributes.
//!
//! Why one: the tree reader, the recognition of qualify's graphs and the import of foreign
//! classifiers all read `ai.onnx.ml` attributes; reading them through one place means a
//! missing or short attribute gets the same error, naming the operator and the attribute,
//! wherever it is met.

use tract_onnx::pb;

use crate::error::AttrError;

/// Attribute look-up on one node.
#[derive(Debug, Clone, Copy)]
pub struct Attrs<'a> {
    node: &'a pb::NodeProto,
}

impl<'a> Attrs<'a> {
    pub fn of(node: &'a pb::NodeProto) -> Attrs<'a> {
        Attrs { node }
    }

    /// The attribute called `name`, if the node has it.
    pub fn get(&self, name: &str) -> Option<&'a pb::AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    /// An `INTS` attribute's values.
    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|a| a.ints.as_slice())
    }

    /// A `FLOATS` attribute's values.
    pub fn floats(&self, name: &str) -> Option<&'a [f32]> {
        self.get(name).map(|a| a.floats.as_slice())
    }

    /// A `STRING` attribute (invalid UTF-8 replaced).
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    /// A `STRINGS` attribute (invalid UTF-8 replaced).
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|a| {
            a.strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
    }

    /// The number of class labels of a classifier (`classlabels_ints` for
    /// `LinearClassifier`, `classlabels_int64s` for `TreeEnsembleClassifier`, or
    /// `classlabels_strings`); 0 when it declares none.
    pub fn class_label_count(&self) -> usize {
        ["classlabels_ints", "classlabels_int64s"]
            .into_iter()
            .find_map(|name| self.ints(name))
            .map(<[i64]>::len)
            .or_else(|| self.get("classlabels_strings").map(|a| a.strings.len()))
            .unwrap_or(0)
    }

    /// An `INTS` attribute that must be present and non-empty.
    ///
    /// # Errors
    /// [`AttrError::Missing`].
    pub fn required_ints(&self, name: &str) -> Result<&'a [i64], AttrError> {
        match self.ints(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.missing(name)),
        }
    }

    /// An `INTS` attribute with exactly `n` values.
    ///
    /// # Errors
    /// [`AttrError::Missing`] or [`AttrError::Length`].
    pub fn ints_of_len(&self, name: &str, n: usize) -> Result<&'a [i64], AttrError> {
        let v = self.ints(name).ok_or_else(|| self.missing(name))?;
        self.check_len(name, v.len(), n)?;
        Ok(v)
    }

    /// A `FLOATS` attribute with exactly `n` values.
    ///
    /// # Errors
    /// [`AttrError::Missing`] or [`AttrError::Length`].
    pub fn floats_of_len(&self, name: &str, n: usize) -> Result<&'a [f32], AttrError> {
        let v = self.floats(name).ok_or_else(|| self.missing(name))?;
        self.check_len(name, v.len(), n)?;
        Ok(v)
    }

    /// A `STRINGS` attribute with exactly `n` values.
    ///
    /// # Errors
    /// [`AttrError::Missing`] or [`AttrError::Length`].
    pub fn strings_of_len(&self, name: &str, n: usize) -> Result<Vec<String>, AttrError> {
        let v = self.strings(name).ok_or_else(|| self.missing(name))?;
        self.check_len(name, v.len(), n)?;
        Ok(v)
    }

    /// `value`, an element of attribute `name`, as an index.
    ///
    /// # Errors
    /// [`AttrError::Index`] when it is negative or does not fit a `usize`.
    pub fn index(&self, name: &str, value: i64) -> Result<usize, AttrError> {
        usize::try_from(value).map_err(|_| AttrError::Index {
            op: self.node.op_type.clone(),
            name: name.to_owned(),
            value,
        })
    }

    fn missing(&self, name: &str) -> AttrError {
        AttrError::Missing {
            op: self.node.op_type.clone(),
            name: name.to_owned(),
        }
    }

    fn check_len(&self, name: &str, len: usize, expected: usize) -> Result<(), AttrError> {
        if len == expected {
            Ok(())
        } else {
            Err(AttrError::Length {
                op: self.node.op_type.clone(),
                name: name.to_owned(),
                len,
                expected,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::attr;

    fn node() -> pb::NodeProto {
        pb::NodeProto {
            op_type: "TreeEnsembleClassifier".to_owned(),
            attribute: vec![
                attr::ints("ids", &[0, 1, -2]),
                attr::floats("values", &[0.5]),
                attr::strings("modes", &["LEAF"]),
                attr::string("post_transform", "NONE"),
                attr::ints("classlabels_int64s", &[0, 1]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn reads_values_and_names_the_operator_and_attribute_in_errors() {
        let n = node();
        let a = Attrs::of(&n);
        assert_eq!(a.ints_of_len("ids", 3), Ok(&[0, 1, -2][..]));
        assert_eq!(a.floats_of_len("values", 1), Ok(&[0.5f32][..]));
        assert_eq!(a.strings_of_len("modes", 1), Ok(vec!["LEAF".to_owned()]));
        assert_eq!(a.string("post_transform").as_deref(), Some("NONE"));
        assert_eq!(a.class_label_count(), 2);
        let err = a.floats_of_len("values", 3).expect_err("short");
        assert_eq!(
            err.to_string(),
            "TreeEnsembleClassifier: attribute values has 1 values, expected 3"
        );
        let err = a.required_ints("nodes_treeids").expect_err("missing");
        assert_eq!(
            err.to_string(),
            "TreeEnsembleClassifier: attribute nodes_treeids is missing or empty"
        );
        assert!(matches!(
            a.ints_of_len("nope", 0),
            Err(AttrError::Missing { .. })
        ));
        assert!(matches!(
            a.index("ids", -2),
            Err(AttrError::Index { value: -2, .. })
        ));
        assert_eq!(a.index("ids", 1), Ok(1));
    }
}
