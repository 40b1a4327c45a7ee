//! The postMessage decoder on both sides: never panics, and whatever decodes re-encodes to
//! a message that decodes the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tweetbuy_core::frame::{FromFrame, ToFrame};

fuzz_target!(|data: &str| {
    if let Some(message) = FromFrame::decode(data) {
        let again = serde_json::to_string(&message).unwrap();
        assert_eq!(FromFrame::decode(&again), Some(message));
    }
    if let Some(message) = ToFrame::decode(data) {
        let again = serde_json::to_string(&message).unwrap();
        assert_eq!(ToFrame::decode(&again), Some(message));
    }
});
