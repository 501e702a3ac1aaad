// Package lint checks Postfix TLS policy tables and the main.cf settings around them the way
// Postfix's SMTP client (smtp(8), and lmtp(8)) reads them, and says what probably does not do
// what was meant. It is the engine behind the "postfixtls lint" command.
//
// Run reads Options.ConfigDir/main.cf (and master.cf), lints every file-backed table that
// smtp_tls_policy_maps, lmtp_tls_policy_maps and master.cf "-o" overrides of them name, then
// the tables given in Options.Tables, and passes each Finding to a callback as soon as it can
// be reported.
//
// Every judgement comes from this module's Postfix emulation, never from a second copy of a
// rule: main.cf and master.cf through policy.Load and policy.Settings (parameter expansion,
// the global level, booleans, startup checks), table files through package policy/tables
// (readllines(), key folding, duplicate handling, compiled-file checks), policy values through
// policy.ParseEntry, trust-anchor files through policy.CheckTrustAnchorFile (package dane),
// fingerprints through package fingerprint and certificate-name matching through package
// match.
//
// # Errors: what Postfix itself reports
//
// Findings of SeverityError are Postfix's own complaints, in Postfix's words (Message), with
// file and line:
//
//   - CodeTableSyntax: a line the table reader skips or warns about (util/readlline.c,
//     postmap.c, dict_thash.c: "expected format: key whitespace value", "unbalanced '\"'",
//     "logical line must not start with whitespace", "record is in \"key: value\" format",
//     "text after null byte may be ignored", "non-UTF-8 input").
//   - CodeDuplicateKey: a duplicate key. smtp(8) opens texthash: tables without duplicate
//     tolerance, so the whole table becomes unavailable; postmap keeps the first entry.
//   - CodeTableUnavailable, CodeTableStale: the table or its compiled file cannot be opened
//     (dict_surrogate: every lookup fails and mail defers with 4.7.5), or the compiled file
//     is older than its source (Postfix answers from the stale file), or is no database
//     of its type ("open database X.db: Invalid argument").
//   - CodeCompiledDiffers (a warning): the compiled file smtp(8) reads (hash:, btree:, cdb:,
//     lmdb:), read whole, lacks a source row or answers another value for it, or holds keys
//     the source does not: the stale-compiled-file mistake (source edited, or compiled file
//     built from another file, without postmap), found before any mail is sent.
//   - CodeInvalidPolicy, CodeUnknownAttribute, CodeTAFileUnreadable: an entry smtp(8) rejects
//     (smtp_tls_policy.c, §1.2-§1.4): mail for that destination defers with "4.7.5 client TLS
//     configuration problem"; Postfix never falls back to the global level. A tafile= file
//     is loaded while the entry is parsed (tls_dane_load_trustfile(), §6.5): one that cannot
//     be opened, holds no PEM object, or whose first PEM object is malformed (even when a
//     later one is fine) makes the entry invalid.
//   - CodeIgnoredAttribute: attributes after "none" are ignored with a warning.
//   - CodeUnknownDigest: an smtp_tls_fingerprint_digest OpenSSL does not know disables TLS.
//   - CodeMainCF: main.cf and master.cf warnings about TLS or routing parameters, and the
//     fatal errors smtp(8) stops with at startup: an invalid smtp_tls_security_level, a
//     boolean that is neither "yes" nor "no" (mail_conf_bool.c: "bad boolean configuration:
//     smtp_enforce_tls = true"; no level is derived from it), an invalid
//     smtp_dns_support_level (case-sensitive) or smtp_tls_dane_insecure_mx_policy.
//   - CodeMainCFSyntax, CodeMasterCFSyntax: a main.cf or master.cf line Postfix refuses to
//     start with, in its own words.
//   - CodeNextHopSyntax: a configured next hop (relayhost, transports) smtp(8) cannot parse.
//
// # Advice: what Postfix accepts but probably does not mean
//
// Findings of SeverityWarning or SeverityNote:
//
//   - CodeKeyNeverMatches: the lookup key is the next-hop string verbatim (§2.1, §9.22):
//     "[relay]" never matches while relayhost is "[relay]:587".
//   - CodeTrailingDotKey, CodeWildcardKey, CodeIPKeyUnbracketed: "example.com.",
//     "*.example.com" and "192.0.2.1" are never next hops (§2.1, §2.2).
//   - CodeBareDomainKey: only ".example.com" matches subdomains (§2.2, §9.21).
//   - CodeSecureMXOutsideDomain: with Options.LookupMX, the MX hosts of a secure row that
//     its default match list ("nexthop, dot-nexthop") excludes (§2.3, §9.43).
//   - CodeHostnameInSecure: "hostname" in a secure match list trusts unsigned MX lookups
//     (§4.1).
//   - CodeDANEWithoutDNSSEC, CodeDANEOnlyWithoutDNSSEC: dane without
//     smtp_dns_support_level = dnssec silently becomes may; dane-only always defers (§6.1).
//   - CodeWeakFingerprintDigest, CodeFingerprintLengthMismatch: md5/sha1 pins, and pins whose
//     length does not fit the digest ("unusable TLSA RR", §5.1, §5.2).
//   - CodeFingerprintNoPins: a fingerprint row without match= while
//     smtp_tls_fingerprint_cert_match is empty; Postfix marks the policy invalid ("no
//     fingerprints to match") and defers (§5.1).
//   - CodeLegacyParameter: smtp_use_tls, smtp_enforce_tls, smtp_tls_enforce_peername and
//     smtp_tls_per_site are obsolete (§2.4).
//   - CodeNoneOverridesGlobal, CodeWeakerThanGlobal: a table hit beats the global level even
//     when weaker (§2.4, §9.25).
//   - CodeMainCFOther, CodeTableNotEmulated, CodePatternTableNotLinted,
//     CodeDNSLookupFailed, CodeNoPolicyTables, CodeMoreFindings: what lint could not judge or
//     left out.
//
// The codes are stable: scripts may key on them.
//
// # Fixes: typed and proven
//
// A finding that proposes a change carries it as typed edits (Finding.Edits, the
// finding.Fix of verdict.Diagnose) beside the words for people (Finding.Fix). A table-row
// edit is the administrator's row edited with policy.Entry.Edit, so every attribute that is
// not the cause stays (ciphers=, protocols=, exclude=, servername=, match=, the
// fingerprints); corrected rows for invalid entries come from policy.Entry.CorrectionFixes,
// which Diagnose uses too. Lint observes no server, so each edit is proven against the
// policy engine instead (verdict.ProveConfig): applied to the loaded Settings with
// policy.Policy.With, the policy for the row's next hop computed again and judged; an edit
// is shown only when Postfix accepts the result, the evaluator would not defer the
// destination for a configuration reason, and the level does not drop unless the edit says
// what it gives up (Downgrade). Of edits with the same effect only the first is kept.
// Where no edit can be proven (a fingerprint lint has never seen, a merge of duplicate
// rows), the advice stays in words.
//
// # Order and limits
//
// Errors are passed on as they are found; advice is kept until the end (Options.MaxAdvice per
// file and code, the rest counted in one CodeMoreFindings note) and passed on after all
// errors.
//
// # Streaming
//
// A table is read in chunks of whole logical lines (Options.ChunkSize) and each chunk is
// handed to package policy/tables' own reader, so every message is Postfix's; a second
// goroutine reads and parses the next chunk while the previous one is linted. Only a set of
// key hashes (duplicates, ".domain" twins) stays in memory for the whole table, so a
// 1,000,000-entry table lints in about a second in 150-250 MB.
package lint
