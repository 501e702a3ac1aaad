// Package dnssec is a DNSSEC-aware stub resolver: it asks a validating recursive resolver for
// records and reports, for every answer, whether that resolver validated it, the way Postfix's
// SMTP client does before it relies on DNS for DANE (RFC 7672). It also makes the MX and
// address lookups of a delivery (LookupMX, LookupHost). Package dane builds its TLSA lookups
// on the Resolver interface defined here.
//
// # Validating resolvers and stub resolvers
//
// DNSSEC signs DNS data: each RRset of a signed zone comes with RRSIG records made with the
// zone's DNSKEY, whose digest the parent zone publishes as a DS record, up to the root key.
// Checking that chain is the job of a validating recursive resolver (unbound, BIND,
// Knot Resolver) configured with the root's key as trust anchor. It sorts every answer into
// one of three states:
//
//   - secure: the chain of trust holds; the answer carries the AD ("authentic data") bit;
//   - insecure: the zone is provably unsigned (a parent proves it has no DS record); the answer
//     comes without AD, and is as trustworthy as DNS without DNSSEC;
//   - bogus: signatures are missing, expired or do not match although the zone should be
//     signed. The resolver answers SERVFAIL and hands out no data at all, so that an
//     attacker who strips or forges signatures gains nothing but a failure.
//
// Postfix does not validate anything itself, and neither does this package. Like Postfix, a
// Client is a stub: each query sets RD (recursion desired), the AD bit (RFC 6840 §5.7: "I
// understand AD, tell me") and an EDNS0 OPT record with the DO bit (send DNSSEC records), and
// the AD bit of the response becomes Answer.Authentic. The CD (checking disabled) bit is never
// set, so bogus data is never seen.
//
// # Why the AD bit is believed
//
// AD is a single header bit, not a signature: anyone able to alter packets between the stub
// and the resolver can set it. RFC 6840 §5.8 therefore says a stub should believe it only over
// a secure channel, and glibc (since 2.31) clears it unless resolv.conf says "options
// trust-ad". Postfix, however, sets RES_TRUSTAD itself in dns_lookup.c for its DNSSEC queries
// (smtp_dns_support_level = dnssec): smtp(8) believes the AD bit of whatever resolver
// resolv.conf names, and the Postfix documentation recommends a local resolver. The
// safe set-up, and the one this package assumes by default, is a validating resolver on a
// loopback address (127.0.0.1 or ::1), where no one else can touch the packets:
// TrustADLoopback believes AD only from loopback servers, TrustADAlways from any server
// (Postfix's behaviour, and what ParseResolvConf picks with "options trust-ad"), TrustADNever
// from none. Callers emulating Postfix against a remote resolver must choose TrustADAlways,
// or enforced DANE policies turn into opportunistic TLS.
//
// # SERVFAIL, NXDOMAIN and NODATA
//
// The three negative answers mean different things, and Postfix acts differently on each; a
// failed Lookup returns a *LookupError wrapping one of the sentinels so callers can tell them
// apart with errors.Is:
//
//   - SERVFAIL (ErrServFail): no answer could be had: a bogus zone, or unreachable or broken
//     authoritative servers; the two look the same to a stub. It is a lookup error, not a
//     "no": Postfix defers (an MX lookup of a bogus domain, "TLSA lookup error" for a host
//     even at the opportunistic dane level). A Client tries its next server first, as the
//     stub resolver in libc does.
//   - NXDOMAIN (ErrNXDomain, rcode 3): the name does not exist at all.
//   - NODATA (ErrNoData): the name exists, but has no records of the type asked; the response
//     is NOERROR with an empty answer section and the zone's SOA in the authority section. A
//     name that exists only because names below it do (an "empty non-terminal", such as
//     _tcp.mx.example.com when _25._tcp.mx.example.com has records) gives NODATA too
//     (RFC 8020).
//
// NXDOMAIN and NODATA are Postfix's DNS_NOTFOUND (IsNotFound): an MX lookup that finds nothing
// means "use the domain's own addresses" (MXResult.NoMX), a TLSA lookup that finds nothing
// means "no TLSA records". Denials can be validated as well (NSEC and NSEC3 records prove
// that nothing exists), so the Answer returned alongside the error and LookupError.Authentic
// say whether the denial itself was authentic.
//
// # CNAME chains
//
// A CNAME record makes its owner an alias: a query for any other type at that name is answered
// with the CNAME and then the records of its target, possibly through several aliases.
// Recursive resolvers usually put the whole chain in one response; when one does not, Client
// asks again for the target, unless an SOA record shows that the target has no data. Each hop
// is reported (Answer.CNAMEs, Hop) with the authenticity of the message that carried it: an
// answer is authentic only when every message along the chain was. Loops and chains of more
// than 16 aliases are errors (ErrCNAMELoop, ErrCNAMEChain). Postfix keeps both ends of a
// chain, the name asked and the owner of the records found (Host.QName and Host.RName,
// MXResult.Domain and MXResult.Owner), because DANE uses both: TLSA records are looked up at
// the CNAME-expanded host name first, and both names can be reference names for DANE-TA.
//
// # TCP after truncation
//
// A UDP answer must fit the payload size the client advertises in EDNS0 (Client.UDPSize,
// 1232 octets by default, the size that avoids IP fragmentation on nearly every path).
// Signatures make DNSSEC answers large, and a TLSA RRset holding full certificates easily
// exceeds that. A server that cannot fit the answer sends what fits with the TC (truncated)
// bit set, and the client must repeat the query over TCP (RFC 7766). Client does so for every
// truncated response (Answer.UsedTCP, Answer.Exchanges) and rejects a response still
// truncated over TCP (ErrMalformedReply).
//
// # Configuration and tests
//
// ParseResolvConf reads /etc/resolv.conf as glibc does (at most three name servers, the
// trust-ad option) and ResolvConf.Client turns it into a Client. Names are checked before
// they are asked (CheckName: at most 255 octets in wire form, valid labels).
//
// MockResolver is an in-memory Resolver for tests: records by name and type, zone statuses
// (secure, insecure, bogus) and forced failures, answered as a validating resolver would.
package dnssec
