// Package dane reproduces how Postfix's SMTP client uses DANE (RFC 7672, "SMTP security via
// opportunistic DNS-Based Authentication of Named Entities") to decide whether, and how, a TLS
// server is authenticated. It knows nothing of Postfix configuration files: callers pass the
// settings that matter as options and get back result values that explain themselves.
//
// # The idea
//
// An SMTP client cannot trust the MX host name it got from DNS unless DNS itself is
// authenticated. With DNSSEC it is: a validating resolver sets the AD ("authentic data") bit on
// answers it validated. A domain that publishes TLSA records at "_25._tcp.<mx host>" in a
// signed zone thereby says "my server's TLS certificate (or its key, or its issuing CA) is
// this one". The client then requires TLS and checks the certificate against those records
// instead of against public CAs.
//
// # What Postfix does, step by step
//
//  1. MX lookup with DNSSEC. An MX RRset without AD is "insecure". At dane-only, or when
//     smtp_tls_dane_insecure_mx_policy is "may", the destination is "non DNSSEC": dane falls
//     back to opportunistic TLS (may), dane-only defers. With policy "encrypt" the host gets
//     mandatory unauthenticated TLS; with "dane" DANE still applies, as the internal level
//     "halfdane", whose successes are logged "Trusted" rather than "Verified" (the MX name
//     could have been forged). See dnssec.LookupMX, Decide and DefaultInsecureMXPolicy.
//  2. Address lookup of the MX host. Only a validated address (or a validated CNAME) lets
//     Postfix look for TLSA records at all (smtp_tls_force_insecure_host_tlsa_lookup
//     overrides this). See dnssec.LookupHost and LookupTLSA.
//  3. TLSA lookup at "_<port>._tcp.<name>", first at the CNAME-expanded host name, then at the
//     original name. The name where records were found is the "TLSA base domain": it is sent
//     as SNI and is the first name checked for DANE-TA. A lookup failure (SERVFAIL) defers
//     the host even at opportunistic dane ("TLSA lookup error for host:port"). No validated
//     records: dane becomes may; dane-only defers ("no TLSA records found").
//  4. Record filtering (Classify). Only DANE-TA(2) and DANE-EE(3) count for SMTP; PKIX-TA(0)
//     and PKIX-EE(1) are dropped with "unsupported TLSA certificate usage", private matching
//     type 255 with "reserved private-use matching type". If nothing survives, dane becomes
//     encrypt ("TLSA records unusable"). From Postfix 3.6, OpenSSL judges the rest at
//     handshake time (bad selectors, disabled or wrong-length digests, undecodable full
//     certificates): "unusable TLSA RR"; if none is usable, dane falls back to encrypt and
//     dane-only fails. Postfix 2.11-3.5 made those checks itself when reading the RRset
//     (Options.PreOpenSSLDANE).
//  5. Verification (RecordSet.Verify) of the chain the server sent:
//     DANE-EE records are compared with the leaf only (its DER or its SubjectPublicKeyInfo,
//     in full or as SHA-256/SHA-512 digest): a match wins at once, with no name checks, no
//     expiry checks, no chain. DANE-TA records name a trust anchor: the first certificate
//     above the leaf that matches (or a full certificate or public key given in a "2 0 0" /
//     "2 1 0" record, even if the server did not send it); the chain from the leaf up to it
//     must have valid signatures, CA flags and dates (the anchor's own dates count only when
//     it is self-issued, as OpenSSL does), and the leaf must match one of the
//     reference names (MatchNames: the TLSA base domain, the nexthop domain's CNAME target,
//     the nexthop domain). Digest agility (RFC 7671 §9, tls_dane_digests): for one usage and
//     selector only the records with the most preferred matching type are compared, so a wrong
//     SHA-512 record hides a right SHA-256 one. Failures carry OpenSSL's error number and text
//     as Postfix logs them ("num=65:no matching DANE TLSA records", "certificate has
//     expired", "num=62:hostname mismatch"); the error closest to the leaf is reported.
//
// Trust-anchor files (the tafile policy attribute and smtp_tls_trust_anchor_file, used at the
// verify and secure levels) go through the same machinery: each PEM certificate becomes
// "2 0 0" and "3 0 0", each public key "2 1 0" and "3 1 0" (ReadTrustAnchors). Postfix does
// check names for a leaf listed there (VerifyOptions.EENameChecks) but not its dates.
//
// # DNS
//
// Talking to DNS is the job of package dane/dnssec, a DNSSEC-aware stub resolver: the Resolver
// interface (implemented by dnssec.Client, and by dnssec.MockResolver for tests), the MX and
// address lookups of steps 1 and 2 (dnssec.LookupMX, dnssec.LookupHost) and the lookup errors
// (SERVFAIL, NXDOMAIN and NODATA kept apart). Its documentation explains the AD bit and when
// it is believed. This package adds the TLSA lookup of step 3 (LookupTLSA) on any
// dnssec.Resolver, and never opens a socket itself.
//
// # Names of things
//
// The package never logs. Texts that Postfix logs are returned (Warnings fields, LogLine,
// Reason) in Postfix's words so that callers can show exactly what Postfix would print.
package dane
