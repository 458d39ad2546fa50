//! One module per subcommand, plus what they share.

pub mod common;
pub mod compare;
pub mod evaluate;
pub mod import;
pub mod monitor;
pub mod report;
pub mod rules;
pub mod schema;
pub mod score;
pub mod serve;
pub mod store;
pub mod synth;
pub mod train;
