//! The JSON API and the probes: every JSON shape and error code lives under this module.

mod accounts;
mod albums;
pub(crate) mod audit;
mod cached;
mod error;
mod export;
mod extract;
mod guests;
mod media;
mod meta;
pub mod multipart;
pub(crate) mod pandals;
mod photos;
mod probes;
pub mod proof;
mod reports;
mod routes;
mod shares;
mod uploads;
pub(crate) mod views;
mod wall;

pub use error::{ApiError, not_found, panic_response, timeout_response};
pub use extract::{json, json_value, no_content, no_store, parse_json, read_body};
pub use routes::{ADMIN_ROUTES, Endpoint, PUBLIC_ROUTES, dispatch};
pub use uploads::{parse_metadata, sweep as sweep_uploads};
