//! Provider payloads: types, parsing, validation, event keys, and the
//! normalisation of every delivery to [`NormalisedEvent`] and, where a
//! callback is due, [`CallbackTask`].
//!
//! Pure: no I/O and no AWS SDK, so everything here is unit-testable on its
//! own.

pub mod campaign;
pub mod delivery;
pub mod event;
mod fields;
pub mod key;
pub mod lenient;
pub mod phone;
pub mod providers;
pub mod stored_task;
pub mod task;

pub use delivery::{DecodeError, Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
pub use event::{
    Attributes, CallbackDecision, CallbackReason, CallbackRequest, CallbackWindow, NormalisedEvent, Provider,
};
pub use key::{EventKey, InvalidEventKey};
pub use phone::{PhoneError, PhoneNumber, PhoneRegion};
pub use stored_task::StoredTaskError;
pub use task::{CallbackTask, TaskContext};
