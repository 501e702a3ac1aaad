// Package match decides, as Postfix's SMTP client does, whether a server certificate's names
// satisfy the peer-name check of the verify and secure TLS security levels (and the name
// check of DANE-TA), and explains the answer.
//
// # Reference names (References)
//
// A match list (smtp_tls_verify_cert_match, smtp_tls_secure_cert_match, or a policy
// table's match= attribute split at ':') is turned into reference names:
//
//   - "nexthop": the nexthop domain (the destination without [] and :port; for [192.0.2.1]
//     it is the string 192.0.2.1).
//   - "dot-nexthop": any subdomain of the nexthop domain (".example.com").
//   - "hostname": the name of the server connected to (the MX name or the [host]).
//   - ".suffix": any name ending in ".suffix" with at least one character before it. A
//     leading IDNA dot variant (U+3002, U+FF0E, U+FF61) followed by more text counts as
//     a leading dot. "." alone is ignored with
//     `ignoring invalid match name: "."` (Postfix >= 3.6).
//   - anything else: a literal host name.
//
// Keywords are case-insensitive. Non-ASCII names are converted to A-labels with UTS-46
// mapping (so "BÜCHER.example" becomes "xn--bcher-kva.example"); a name that cannot be
// converted stays as it is and logs Postfix's midna_domain_to_ascii warning. Before 3.6
// the hostname is not converted. When no name at all can be installed, Postfix >= 3.6
// logs "could not configure peer name checks" and verification fails with
// "num=1:unspecified certificate verification error" (RefList.MustFail).
//
// With OpenSSL 3 (Postfix 3.6-3.11), a name that parses as an IP address becomes an
// iPAddress check (only one can be loaded; a second logs "error loading match name"), and
// every installed check must pass: the host names (any one matching) and the IP. So
// default secure to [192.0.2.1] ("nexthop, dot-nexthop") always fails: ".192.0.2.1" can
// match no name.
//
// # Certificate names (Names)
//
// Postfix >= 3.6 (OpenSSL X509_check_host): if the certificate has at least one dNSName
// SAN, only DNS SANs are compared and the subject CN is ignored ("CN ignored: the
// certificate has DNS SANs"); otherwise every CN is compared, not only the first.
// iPAddress SANs only ever meet an IP-address reference. Postfix 2.11-3.5: DNS SANs, or
// else only the first CN; names with NULs or non-printable characters are skipped with a
// warning; non-ASCII names never match.
//
// # Matching (Check), Postfix >= 3.6
//
//   - Comparison is ASCII case-insensitive and otherwise byte-exact; trailing dots are
//     not removed ("example.com." does not match "example.com").
//   - A certificate wildcard is a '*' forming the whole leftmost label, followed by at
//     least two more labels, in a name of letters, digits, hyphens and dots. It covers
//     exactly one non-empty label of letters, digits and hyphens: *.example.org matches
//     a.example.org, not example.org, not a.b.example.org (whatever
//     tls_wildcard_matches_multiple_labels says). Partial wildcards (mx*.example.com),
//     *.com and foo.*.example.org are compared literally.
//   - A ".suffix" reference (and dot-nexthop) is a plain suffix test without wildcard
//     interpretation: SAN *.example.org and a.b.example.org both end in ".example.org";
//     SAN example.org does not.
//   - A reference containing '*' is literal: match=*.example.com matches only a SAN that
//     is literally "*.example.com".
//
// # Matching, Postfix 2.11-3.5 (Mode Legacy)
//
// Postfix's own match_servername(): exact names case-insensitively; ".suffix" as above;
// a certificate name "*.rest" matches a reference whose part after its first label is
// ".rest", with no minimum label count (*.com matches example.com); with
// tls_wildcard_matches_multiple_labels = yes (the default since 2.11, WildcardMultipleLabels)
// the '*' may cover several labels. IP literals are compared as DNS names.
//
// # The fastmail.fm case
//
// Mail for fastmail.fm goes to MX in1-smtp.messagingengine.com whose certificate names
// *.messagingengine.com and messagingengine.com. At secure, the default references are
// "fastmail.fm" and ".fastmail.fm"; no certificate name is either, so delivery defers
// with "Server certificate not verified". At verify ("hostname"), the wildcard covers
// "in1-smtp" and the check passes. The narrow fix is a policy entry
// "fastmail.fm secure match=.messagingengine.com".
//
// Every result carries its evidence: Result.Tries lists each reference against each
// certificate name with the reason it failed, and Result.Summary says it in one sentence.
//
// Differences from Go's crypto/x509 VerifyHostname: Go never reads the CN, strips a
// trailing dot, accepts "*.com", and has no ".suffix" references; this package does
// what OpenSSL does inside Postfix instead. The A-label conversion uses x/net/idna, not
// ICU; the ICU error name in a conversion warning is approximate.
package match
