#!/usr/bin/env bash
# Regenerates the OpenSSL-made key fixtures used by src/keys/tests.rs and
# src/verify/tests.rs. Throwaway keys: never use them for anything real.
set -euo pipefail
cd "$(dirname "$0")"

# RSA 2048 private key (PKCS#8) and a self-signed certificate for it (PEM and DER).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-key.pem 2>/dev/null
openssl req -new -x509 -key rsa-key.pem -subj "/CN=jwtai test RSA" -days 36500 -out rsa-cert.pem
openssl x509 -in rsa-cert.pem -outform DER -out rsa-cert.der
openssl pkey -in rsa-key.pem -pubout -outform DER -out rsa-pub.der

# EC P-256 the way `openssl ecparam -genkey` writes it: EC PARAMETERS + EC PRIVATE KEY.
openssl ecparam -name prime256v1 -genkey -out ec-p256-sec1.pem
openssl req -new -x509 -key ec-p256-sec1.pem -subj "/CN=jwtai test EC" -days 36500 -out ec-p256-cert.pem

# Ed25519 private key (PKCS#8 v1).
openssl genpkey -algorithm ED25519 -out ed25519-key.pem

# Keys that cannot verify JWS signatures.
openssl genpkey -algorithm X25519 | openssl pkey -pubout -out x25519-pub.pem
openssl ecparam -name secp256k1 -genkey | openssl ec -pubout -out secp256k1-pub.pem 2>/dev/null

# An encrypted private key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc -pass pass:jwtai -out ec-encrypted.pem

# A weak 1024-bit RSA key and an RS256 token it signed.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024-key.pem 2>/dev/null
openssl pkey -in rsa1024-key.pem -pubout -out rsa1024-pub.pem
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
input="$(printf '%s' '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '%s' '{"sub":"weak-key"}' | b64url)"
sig="$(printf '%s' "$input" | openssl dgst -sha256 -sign rsa1024-key.pem -binary | b64url)"
printf '%s.%s\n' "$input" "$sig" > rsa1024-rs256.jwt
rm rsa1024-key.pem
# PKCS#12 bundle of the certificate alone (jwtai names the format and the extraction command).
openssl pkcs12 -export -in rsa-cert.pem -nokeys -out rsa-cert.p12 -passout pass:jwtai
# OpenSSH private keys (jwtai names the type and the command that derives the public key).
ssh-keygen -t rsa -b 1024 -N '' -C throwaway -q -f openssh-rsa.key && rm openssh-rsa.key.pub
ssh-keygen -t ed25519 -N '' -C throwaway -q -f openssh-ed25519.key && rm openssh-ed25519.key.pub
