#!/usr/bin/env python3
"""Regenerates the example tokens in examples/ (Python 3 standard library only).

Every example is HS256-signed with examples/hs256.secret and built around the
instant 2026-03-15T12:34:00Z, which the README passes as --now.
"""
import base64, hashlib, hmac, json, os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
SECRET = b"jwtai-example-secret-not-for-production-8f2c61d4b7e9a035"
NOW = 1773578040  # 2026-03-15T12:34:00Z


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    si = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
    return si + "." + b64(hmac.new(SECRET, si.encode(), hashlib.sha256).digest())


base = {
    "iss": "https://auth.example.com/",
    "sub": "auth0|65f1c0ffee0123456789abcd",
    "aud": "https://api.example.com",
    "scope": "read:orders",
}
examples = {
    "valid.jwt": dict(base, iat=NOW - 600, exp=NOW + 3000),
    "expired.jwt": dict(base, iat=NOW - 11520 - 3600, exp=NOW - 11520),
    "wrong-audience.jwt": dict(base, aud="https://api.staging.example.com", iat=NOW - 600, exp=NOW + 3000),
    "ms-timestamp.jwt": dict(base, iat=(NOW - 600) * 1000, exp=(NOW + 3000) * 1000),
}
os.makedirs(HERE, exist_ok=True)
with open(os.path.join(HERE, "hs256.secret"), "wb") as f:
    f.write(SECRET)
for name, claims in examples.items():
    with open(os.path.join(HERE, name), "w") as f:
        f.write(sign(claims) + "\n")
valid = sign(examples["valid.jwt"])
with open(os.path.join(HERE, "line-wrapped.jwt"), "w") as f:
    f.write("\n".join(valid[i:i + 64] for i in range(0, len(valid), 64)) + "\n")
with open(os.path.join(HERE, "curl.txt"), "w") as f:
    f.write(f"curl -s https://api.example.com/orders -H 'Authorization: Bearer Bearer {valid}'\n")
