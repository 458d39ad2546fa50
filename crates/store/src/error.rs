//! What can go wrong with the store: a bad URL, a schema the code does not know, input that
//! breaks the data contract (with the lead id and the index in the batch), the database.

/// Which table a database failure concerns, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Part {
    Leads,
    Events,
    Outcomes,
    ScoreLog,
    Migrations,
}

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A URL that names neither backend.
    #[error(
        "store URL {url:?} is neither sqlite://PATH nor postgres://USER@HOST:PORT/DB \
         (postgresql:// is accepted too)"
    )]
    Url { url: String },
    /// The database holds a schema version newer than this build knows.
    #[error(
        "the store's schema is at version {store}, newer than this build of qualify knows \
         (version {code}); use a newer qualify, or another store"
    )]
    SchemaTooNew { store: i64, code: i64 },
    /// A migration failed, or one applied earlier differs from this build's.
    #[error("migrating the store's schema: {source}")]
    Migrate {
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The database failed (connection, constraint, I/O).
    #[error("the store's {part} table: {source}")]
    Database {
        part: Part,
        #[source]
        source: sqlx::Error,
    },
    /// A lead id that is blank.
    #[error("{what}: the lead id is blank")]
    BlankLeadId { what: Item },
    /// A lead's attributes that are not a valid lead record.
    #[error("lead {lead:?}: the attributes are not a lead record: {message}")]
    Attributes { lead: String, message: String },
    /// The attributes carry an `id` other than the lead's.
    #[error("lead {lead:?}: the attributes' id {sent:?} is not the lead's id")]
    IdMismatch { lead: String, sent: String },
    /// Activities sent inside the attributes: they are events.
    #[error(
        "lead {lead:?}: the attributes hold `activities`; send them as events (each with \
         lead_id, type and at)"
    )]
    ActivitiesInAttributes { lead: String },
    /// A creation time that does not parse.
    #[error(
        "lead {lead:?}: `{field}` {text:?} is not a time (RFC 3339, `YYYY-MM-DD HH:MM:SS` or \
         `YYYY-MM-DD`)"
    )]
    CreatedAt {
        lead: String,
        field: String,
        text: String,
    },
    /// An event that breaks the contract.
    #[error("{what}, lead {lead:?}: {problem}")]
    Event {
        what: Item,
        lead: String,
        problem: EventProblem,
    },
    /// An outcome that breaks the policy with one the lead holds (or one earlier in the
    /// batch): at the same instant, after a conversion, or after a final disqualification
    /// (qualify-core's history module; docs/history.md). `first` and `second` are in time
    /// order; the one sent is refused.
    #[error(
        "lead {lead:?}: {} at {} and {} at {}: {why}; the outcome sent is refused",
        .first.describe(), text(.first), .second.describe(), text(.second)
    )]
    OutcomeConflict {
        lead: String,
        first: qualify_core::history::Outcome,
        second: qualify_core::history::Outcome,
        why: qualify_core::history::ConflictKind,
    },
    /// An outcome before the lead's creation (docs/history.md: check the time zones).
    #[error(
        "lead {lead:?}: the outcome at {at} is before the lead's creation ({created}); check \
         the time zones of the two sources"
    )]
    OutcomeBeforeCreation {
        lead: String,
        at: String,
        created: String,
    },
    /// A stored row that the code cannot read back (written by something else).
    #[error("the store's {part} table: row of lead {lead:?}: {message}")]
    Corrupt {
        part: Part,
        lead: String,
        message: String,
    },
    /// A history read from the store broke the file readers' policy (feature `files`).
    #[cfg(feature = "files")]
    #[error(transparent)]
    History(#[from] qualify_data::history::HistoryReadError),
    /// Inferring the leads schema from the store's leads table failed (feature `files`).
    #[cfg(feature = "files")]
    #[error("inferring the leads schema from the store's leads: {source}")]
    Infer {
        #[source]
        source: qualify_data::infer::InferError,
    },
    /// A row the file readers accepted that the import could not convert (feature `files`).
    #[cfg(feature = "files")]
    #[error("{}: {table} row {row}, lead {lead:?}: {problem}", path.display())]
    ImportRow {
        path: std::path::PathBuf,
        table: &'static str,
        row: usize,
        lead: String,
        problem: String,
    },
    /// An import into a store that holds leads already, without `append`.
    #[error(
        "the store already holds {leads} lead(s): import into an empty store, or append          (events without an event_id that are imported again are then stored twice)"
    )]
    NotEmpty { leads: i64 },
    /// A table could not be built.
    #[error(transparent)]
    Table(#[from] qualify_core::value::TableError),
    /// A file could not be read (feature `files`).
    #[cfg(feature = "files")]
    #[error(transparent)]
    Data(#[from] qualify_data::DataError),
}

/// Where in a call an item was: the whole call, or the index in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    One,
    /// 0-based index in the batch.
    Batch(usize),
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::One => write!(f, "the item"),
            Item::Batch(i) => write!(f, "item {i} of the batch"),
        }
    }
}

/// What is wrong with an event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventProblem {
    #[error("the event_id is blank (leave it out instead)")]
    BlankEventId,
    #[error("the value {value} is not a finite number")]
    NotFinite { value: f64 },
}

/// A database error about `part`.
pub(crate) fn db(part: Part) -> impl Fn(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { part, source }
}

/// An outcome's time as the errors write it.
fn text(o: &qualify_core::history::Outcome) -> String {
    qualify_core::history::time_text(o.at).unwrap_or_else(|| o.at.to_string())
}
