//! What Pujo reads back from Redis (an answer; the kept part of a search or pandal
//! page, deflated JSON) comes from a store other replicas and other releases share:
//! for any bytes, reading them answers without a panic, a part never inflates past its
//! bound, and what is read writes back to the same (`pujo::cache::check_redis_forms`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pujo::cache::check_redis_forms(data);
});
