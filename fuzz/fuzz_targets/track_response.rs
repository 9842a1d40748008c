//! The Track API's answers to a partial success (206): no panic, and the
//! items to resend are distinct indices of the batch that was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str)| {
    let (sent, body) = input;
    let sent = usize::from(sent);
    if let Some((retry, rejected)) = census_azure::fuzzing::partial_response(body, sent) {
        assert!(retry.windows(2).all(|w| w[0] < w[1]), "{retry:?}");
        assert!(retry.iter().all(|&i| i < sent), "{retry:?} of {sent}");
        assert!(
            retry.len() + rejected <= sent,
            "{retry:?} + {rejected} of {sent}"
        );
    }
});
