// Command check answers an administrator's question the way Postfix's SMTP client would:
// would Postfix, configured as it is, deliver to this destination under its TLS policy —
// and if not, why, and what is the narrowest change that fixes it?
//
// Live mode dials the servers Postfix would dial (MX lookup with DNSSEC status through a
// validating resolver, TLSA lookups for DANE, STARTTLS with Postfix's protocol and cipher
// limits) and judges every session as the emulated Postfix release would:
//
//	check [-C dir] [-o name=value]... [-service name] [-sender addr] [-deadline d] [-probe-rcpt] [-resolver addr] [-version v] [-json] DESTINATION
//
// Offline mode judges a certificate chain kept in a file, with optional TLSA records and MX
// host name, and needs no network at all:
//
//	check [-C dir] [-o name=value]... -cert chain.pem [-tlsa 'RR']... [-mx host] [-json] DESTINATION
//
// DESTINATION is a recipient address (user@example.com), a domain (example.com), or an
// explicit next hop ("[mx.example.com]", "[mx.example.com]:587") that Postfix would hand to
// default_transport.
//
// # Where the answer comes from
//
// -C names Postfix's configuration directory (default /etc/postfix when it holds a main.cf,
// else Postfix's built-in defaults): main.cf, the master.cf -o overrides of the transport that
// delivers, smtp_tls_policy_maps, transport_maps, relayhost, the CA files and smtp_tcp_port are
// read as Postfix reads them. -o name=value overrides a parameter, like postconf -o. -service
// checks an explicit next hop as delivered by another master.cf service (its -o overrides
// apply); it is implemented by setting default_transport, so it is accepted only with "[host]"
// or "host:port" destinations. -sender is the envelope sender that
// sender_dependent_relayhost_maps and sender_dependent_default_transport_maps are asked for
// (without it, the null sender "<>", as for a bounce). -deadline (default 60s, 0 for none)
// bounds the whole live check of the destination on top of Postfix's own timeouts; when it
// ends the check the verdict says so ("deadline" line, JSON "deadline"), and the cut attempt
// counts as a deferral.
//
// The TLS verdict alone says nothing about the recipient: Postfix still bounces on a "550
// 5.1.1" or defers on a "450" to RCPT TO. -probe-rcpt (live mode, DESTINATION an address)
// asks each server once the TLS part would deliver — EHLO inside TLS, MAIL FROM:<-sender>,
// RCPT TO, then RSET and QUIT, never DATA, as Postfix's address verification does — and the
// verdict becomes what Postfix does with those replies ("host mx[addr] said: 550 5.1.1 ...
// (in reply to RCPT TO command)"). Without it the verdict says that the recipient was not
// tested. Postfix's own probes send MAIL FROM:<double-bounce@$myorigin>
// ($address_verify_sender); pass that as -sender to see what they see.
//
// The emulated release is -version, else the installed Postfix's (postconf -c dir -h
// mail_version), else the newest release the library knows. DNS goes to -resolver (host:port)
// or to the servers of /etc/resolv.conf; the AD bit is believed from loopback resolvers, or
// with "options trust-ad".
//
// # What it prints
//
// A screen: the policy and where it came from (table, file, line and entry, or the main.cf
// parameter), every server tried with the TLS trust word Postfix would log, the verdict in
// Postfix's words (dsn=..., status=deferred (...)), the explanation and the fixes, narrowest
// first. With -json it prints one object in the contract of design.md ("The check tool's
// JSON"): destination, nexthop, postfix_version, policy{level, match, source}, outcome, dsn,
// reason, trust, attempts[], findings[], recipient{check, address, sender, reply, note};
// fields may be added, never renamed. Offline mode
// prints the same shape.
//
// # Exit status
//
//	0  Postfix would deliver
//	1  Postfix would defer or bounce
//	2  usage or configuration error (the message says which)
package main
