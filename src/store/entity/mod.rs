//! sea-orm entities: one file per table. Rows never leave `store`; the
//! repositories turn them into domain types.
pub mod credential;
pub mod system_state;
pub mod user;
pub mod user_label;
