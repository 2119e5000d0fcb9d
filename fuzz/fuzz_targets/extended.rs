#![no_main]
//! Fuzz target: see `check_extended` in tests/mutation.rs for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| p2plab_fuzz::checks::check_extended(data));
