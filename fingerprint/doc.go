// Package fingerprint reproduces Postfix's "fingerprint" TLS security level: which
// certificate and public-key digests are computed, how the configured values are read,
// and whether a server's leaf certificate matches, with an explanation when it does not.
//
// # What is compared
//
// The digest is smtp_tls_fingerprint_digest: md5 up to Postfix 3.5 and at
// compatibility_level < 3.6, sha256 from 3.6 at compatibility_level >= 3.6 (any name
// OpenSSL knows works: md5, sha1, sha224, sha256, sha384, sha512, ...; an unknown name
// gives `Digest algorithm "x" not found` and disables TLS). Each value is compared with
// both the digest of the leaf certificate (DER) and the digest of its
// SubjectPublicKeyInfo (DER). Only the leaf counts; there is no CA, expiry or name check,
// so an expired self-signed certificate whose fingerprint matches is Verified.
// Fingerprints print as upper-case hex pairs with colons, "AB:CD:...".
//
// # Where the values come from (ParseList)
//
// A policy table's match= attributes (each split on '|', several attributes add up) are
// used when present; otherwise smtp_tls_fingerprint_cert_match, which is split on
// whitespace and commas, not '|': "fp1|fp2" in main.cf is one malformed value.
//
// Postfix >= 3.6 (Options.ColonsOptional) decodes each value as hex pairs in either case
// with optional single colons between pairs: "AB:CD:EF", "abcdef" and "AB:CDEF" are equal;
// no leading or trailing colon, no odd digit count, at most 192 characters. A value that
// does not decode logs "malformed fingerprint value: <value>" and is skipped. If nothing
// remains smtp(8) reports "nexthop domain <dest>: configured at fingerprint security
// level, but with no fingerprints to match." and the policy is invalid (ErrNoFingerprints).
//
// Each value then becomes two private-use TLSA records, "3 0 255" (certificate) and
// "3 1 255" (public key), with matching type 255 bound to the configured digest. The
// length is checked only at handshake time: a value whose length differs from the
// digest's (an MD5 value with sha256) logs "unusable TLSA RR: 3 1 255 <HEX>" and
// "unusable TLSA RR: 3 0 255 <HEX>"; when no value is usable Postfix logs "all
// fingerprints unusable" and verification fails with "num=1:unspecified certificate
// verification error". A usable value that matches nothing fails with "num=65:no
// matching DANE TLSA records". Either way smtp(8) defers with "Server certificate not
// verified".
//
// Postfix <= 3.5 compares values as text, case-insensitively, with its own "AB:CD:..."
// rendering: colons are mandatory and nothing is ever reported as malformed.
//
// # Explanations
//
// On a mismatch Check computes the leaf's fingerprints under every common digest and
// Identify tells what each configured value is, so a finding can say "this pin is the
// SHA-1 fingerprint of the certificate, but Postfix compares SHA-256". PostfixStack,
// PostfixLogLine, OpenSSLLine and PEMReport print fingerprints the way posttls-finger,
// Postfix's logs and `openssl x509 -fingerprint -<digest>` do.
package fingerprint
