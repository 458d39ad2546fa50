//! The schema TOML (qualify-core's `Schema::from_toml`: parse and validate).
//!
//! Checks: no panic; a schema that reads writes back (`to_toml`) to text that reads to the same
//! schema with the same hash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qualify_core::schema::Schema;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = Schema::from_toml(text, "fuzz.toml") else {
        return;
    };
    let written = schema.to_toml();
    let back = Schema::from_toml(&written, "written.toml")
        .unwrap_or_else(|e| panic!("a schema that read writes back readable: {e}\n{written}"));
    assert_eq!(back, schema, "a schema round-trips through TOML");
    assert_eq!(back.hash(), schema.hash(), "the round trip keeps the hash");
});
