//! Store errors as API errors, by whose fault they are: input that breaks the store's rules
//! is the client's (422 `invalid_field`, naming the field and, in a batch, the item's
//! index); valid input that conflicts with what the store holds (a second outcome, an
//! outcome before the lead's creation) is 409 `conflict`, naming the field; a database that fails is ours and passing (503 `store_unavailable`: retry); a row
//! the code cannot read back is ours (500, logged).

use qualify_store::{EventProblem, Item, StoreError};

use crate::error::{ApiError, ErrorCode};

/// What the failed call was given, to place a field: one lead's attributes, or the items of
/// an ingestion body (`single`: one object, whose fields are named bare; else `[i].field`).
#[derive(Debug, Clone, Copy)]
pub enum Given<'a> {
    /// `PUT /v1/leads/{id}`: fields of the attributes.
    Lead,
    /// A read: no field.
    Read,
    /// `POST /v1/events` or `/v1/outcomes`: the items' lead ids, in order.
    Items { leads: &'a [&'a str], single: bool },
}

impl Given<'_> {
    fn field(&self, index: Option<usize>, name: &str) -> String {
        match (self, index) {
            (Given::Items { single: false, .. }, Some(i)) => format!("[{i}].{name}"),
            _ => name.to_string(),
        }
    }

    /// The first item of `lead`, for errors that name the lead only.
    fn index_of(&self, lead: &str) -> Option<usize> {
        match self {
            Given::Items { leads, .. } => leads.iter().position(|l| *l == lead),
            _ => None,
        }
    }
}

/// The API error for `e`, with fields placed as `given` says.
pub fn api_error(e: StoreError, given: Given<'_>) -> ApiError {
    let message = e.to_string();
    let invalid = |field: String| ApiError::invalid_field(field, message.clone());
    let conflict =
        |field: String| ApiError::new(ErrorCode::Conflict, message.clone()).with_field(field);
    match &e {
        StoreError::BlankLeadId { what } => {
            let index = match what {
                Item::One => Some(0),
                Item::Batch(i) => Some(*i),
            };
            match given {
                Given::Lead | Given::Read => invalid("id".into()),
                _ => invalid(given.field(index, "lead_id")),
            }
        }
        StoreError::IdMismatch { .. } => invalid("id".into()),
        StoreError::ActivitiesInAttributes { .. } => invalid("activities".into()),
        StoreError::CreatedAt { field, .. } => invalid(field.clone()),
        StoreError::Attributes { .. } => ApiError::new(ErrorCode::InvalidField, message),
        StoreError::Event { what, problem, .. } => {
            let index = match what {
                Item::One => Some(0),
                Item::Batch(i) => Some(*i),
            };
            let name = match problem {
                EventProblem::BlankEventId => "event_id",
                EventProblem::NotFinite { .. } => "value",
            };
            invalid(given.field(index, name))
        }
        StoreError::OutcomeConflict { lead, .. } => {
            conflict(given.field(given.index_of(lead), "outcome"))
        }
        StoreError::OutcomeBeforeCreation { lead, .. } => match given {
            Given::Lead => conflict(qualify_store::leads::CREATED_AT.into()),
            _ => conflict(given.field(given.index_of(lead), "at")),
        },
        StoreError::Database { .. } => {
            tracing::warn!(error = %e, "the store failed");
            ApiError::new(
                ErrorCode::StoreUnavailable,
                format!("the store failed; nothing was stored by this request: {message}"),
            )
        }
        _ => {
            tracing::error!(error = %e, "store");
            ApiError::internal(format!("the store: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use qualify_core::history::{ConflictKind, Outcome};

    #[test]
    fn store_errors_name_the_field_and_the_item() {
        let leads = ["a", "b"];
        let batch = Given::Items {
            leads: &leads,
            single: false,
        };
        let e = api_error(
            StoreError::Event {
                what: Item::Batch(1),
                lead: "b".into(),
                problem: EventProblem::BlankEventId,
            },
            batch,
        );
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body.error.field.as_deref(), Some("[1].event_id"));
        let e = api_error(
            StoreError::OutcomeConflict {
                lead: "b".into(),
                first: Outcome::converted(0),
                second: Outcome::disqualified(1, None),
                why: ConflictKind::AfterConversion,
            },
            batch,
        );
        assert_eq!(e.body.error.field.as_deref(), Some("[1].outcome"));
        assert_eq!(e.status, StatusCode::CONFLICT);
        let one = Given::Items {
            leads: &leads[..1],
            single: true,
        };
        let e = api_error(
            StoreError::OutcomeBeforeCreation {
                lead: "a".into(),
                at: "x".into(),
                created: "y".into(),
            },
            one,
        );
        assert_eq!(e.body.error.field.as_deref(), Some("at"));
        let e = api_error(
            StoreError::Database {
                part: qualify_store::Part::Events,
                source: sqlx_closed(),
            },
            one,
        );
        assert_eq!(
            (e.status, e.code()),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::StoreUnavailable)
        );
    }

    fn sqlx_closed() -> sqlx::Error {
        sqlx::Error::PoolClosed
    }
}
