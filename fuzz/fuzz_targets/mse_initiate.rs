#![no_main]
//! Fuzz target: see `check_mse_initiate` in tests/mutation.rs for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| p2plab_fuzz::checks::check_mse_initiate(data));
