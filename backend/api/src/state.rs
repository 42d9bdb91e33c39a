//! The state every handler shares: the use cases' [`ferrocat_app::App`] (pools, clients and
//! the platform's settings).

pub use ferrocat_app::App as AppState;
