// Package verdict judges a delivery attempt as Postfix's SMTP client would: given the
// policy.Policy that applies and an Observation of what the server showed, Evaluate returns
// the Decision Postfix makes — deliver, defer and try the next server, retry in plaintext, or
// bounce — with Postfix's DSN, reason text and log lines, and Findings that explain a failure.
//
// # Judging an attempt
//
// Package policy's Resolve and PolicyFor say which policy applies; Evaluate says what Postfix would do with
// one connection attempt under it. An Observation is what the attempt saw — DNS facts and
// their DNSSEC status, STARTTLS offered or refused, the handshake and the chain exactly as the
// server sent it — filled by package smtpclient, from files (ObservationFromFiles), or field
// by field. Evaluate is pure: no I/O (LoadTrust reads the CA files beforehand), so the same
// Observation can be judged under several policies or Postfix versions. Its Decision carries
// the trust word that release logs (Anonymous, Untrusted, Trusted, Verified), the outcome
// (deliver, defer and try the next server, plaintext retry, bounce), the DSN and Postfix's
// reason text, the log lines, the evidence (name matches, fingerprints, DANE records, chain
// errors) and Findings: what caused a failure and the narrowest configuration change that
// fixes it. Conclude combines the decisions for the servers of one delivery.
//
// The evaluator applies the rules in smtp(8)'s order: a DNS lookup failure, an invalid
// policy (no connection), dane_init()'s DNS-dependent decision (HandshakePolicy gives it to
// a caller that connects itself), STARTTLS offered, refused or absent, tls_client_start()'s
// local setup (protocol list, cipher grade and exclusions, from package internal/openssl),
// the handshake, and then verification at the level in effect: fingerprint pins, DANE-EE and
// DANE-TA records, or PKIX chains to the configured CAs with the level's name checks.
//
// # Chain verification
//
// PKIX chain verification ([VerifyChain]) is done as OpenSSL 3 does it inside Postfix (X509_verify_cert with the
// trust store built from smtp_tls_CAfile and smtp_tls_CApath, trusted-first chain
// building, no partial chains, purpose "ssl_server").
//
// crypto/x509 is used only for parsing and for single signature checks
// (Certificate.CheckSignature). x509.Certificate.Verify is not used because it differs
// from OpenSSL in ways that change Postfix's answer (each pinned by a test in
// chain_test.go):
//
//   - Go rejects SHA-1 signed certificates in Verify; OpenSSL (security level 0 and 1 as
//     Postfix sets them) accepts them. CheckSignature still accepts SHA-1.
//   - Go always stops at the first error; OpenSSL reports every error to Postfix's
//     callback, which keeps the one closest to the leaf (update_error_state). So a chain
//     with an unknown root and a wrong name is reported as "hostname mismatch".
//   - Go accepts a trusted intermediate as an anchor; OpenSSL without
//     X509_V_FLAG_PARTIAL_CHAIN (Postfix does not set it for CAfile/CApath) needs a
//     self-issued anchor and reports "num=2:unable to get issuer certificate".
//   - Go treats anyExtendedKeyUsage as satisfying serverAuth; OpenSSL's ssl_server purpose
//     does not (xku_reject).
//   - Go does not report which certificate failed nor at which depth, which decides
//     Postfix's "server" / "CA" prefix and the "untrusted issuer <DN>" text.
//
// Remaining known differences: MD5 signatures (accepted by OpenSSL at security level 0,
// i.e. may/encrypt; Go's CheckSignature rejects them), OpenSSL's "alternative chains"
// search, name constraints, policy constraints and revocation (Postfix configures none).
package verdict
