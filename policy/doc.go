// Package policy turns a Postfix configuration and a destination into the TLS policy that
// Postfix's SMTP client (smtp(8), and lmtp(8)) would apply, and says where that decision came
// from.
//
// # Where Postfix's TLS policy comes from
//
// For every delivery, smtp(8) has a next-hop string: the transport(5) next hop, the
// relayhost, or the recipient domain, written exactly as configured — "example.com",
// "[mail.example.net]", "[mail.example.net]:587". That string, verbatim, is the key looked up
// in smtp_tls_policy_maps. Only a bare domain key gets parent-domain recursion
// ("a.b.example.com", then ".b.example.com", ".example.com", ".com"); a bracketed or ported
// key is looked up once. A hit decides the level completely, even when it is weaker than
// smtp_tls_security_level ("none" in the table beats a global "secure"); a miss falls back to
// the global level, and if that is empty, to the obsolete smtp_use_tls/smtp_enforce_tls
// booleans.
//
// A table entry is a security level followed by name=value attributes:
//
//	example.com       secure match=nexthop:dot-nexthop protocols=>=TLSv1.2
//	[relay.example]:587 encrypt
//	.example.net      verify ciphers=high
//
// An entry Postfix cannot parse is not skipped: the policy is invalid, smtp(8) does not even
// connect, and mail defers with "4.7.5 client TLS configuration problem". Package policy keeps
// that distinction: an invalid entry is a Policy that says so, with Postfix's warning text,
// never an error that makes the caller fall back to the global level.
//
// # The security levels
//
//	none         no TLS, even if offered
//	may          TLS if offered; plaintext otherwise; no authentication
//	encrypt      TLS required; no authentication
//	fingerprint  TLS required; the leaf certificate or its public key must match a pinned digest
//	dane         DANE (RFC 7672) when DNSSEC-validated TLSA records exist, else may or encrypt
//	dane-only    DANE required
//	verify       TLS required; chain to a configured CA; name must match (default: the MX name)
//	secure       as verify, but the default names are the next-hop domain and its subdomains
//
// Postfix's behaviour changes between releases (defaults, accepted attributes, wording,
// wildcard rules). A Settings value carries the Postfix version and compatibility_level
// being emulated, and every rule here follows them.
//
// # Judging an attempt
//
// Package policy/verdict judges what Postfix does with one connection attempt under the
// policy computed here; package smtpclient makes the attempt. Policy.AtLevel gives the
// handshake settings of the level a dane policy becomes before Postfix connects.
//
// Subpackages: tables (lookup tables: texthash, hash source files, inline, static, regexp,
// pcre, socketmap) and maincf (main.cf, master.cf and parameter expansion) read Postfix's
// file formats; lint checks a configuration and its tables as Postfix would read them;
// verdict judges an attempt; finding holds the shape of every diagnosis; release names the
// Postfix releases emulated.
package policy
