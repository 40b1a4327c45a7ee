//! The vault origin, driven with `oneshot` against `vault_app`.

#[path = "common/harness.rs"]
mod harness;

mod vault {
    mod charges;
    mod erasure;
    mod frame;
    mod profiles;
    mod refunds;
    mod rotation;
    mod storage;
    mod tokens;
}
