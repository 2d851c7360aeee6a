//! Key material on arbitrary bytes: PEM, DER, certificates, JWK and JWK Sets
//! (`--key` files and fetched `--jwks-uri` bodies).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    match jwtai::keys::parse_key_bytes_with_problems(bytes, "fuzz.key") {
        Ok(set) => {
            for k in &set.keys {
                let _ = (k.material.describe(), jwtai::keys::thumbprint(&k.material));
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match jwtai::keys::parse_jwk_set(bytes, "https://fuzz.example/jwks") {
        Ok(set) => {
            for k in &set.keys {
                let _ = k.material.describe();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
