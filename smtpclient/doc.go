// Package smtpclient is the only part of postfixtls that dials: it walks a destination's
// servers the way Postfix's smtp(8) does and hands what it saw to the policy evaluator.
//
// # What Postfix's SMTP client does, in order
//
//  1. Next hop. The destination (recipient domain, transport next hop, relayhost) gives a
//     next-hop string such as "example.com", "[mail.example.net]" or "[mail.example.net]:587".
//     Bracketed next hops are connected to directly; bare domains are looked up in DNS (MX, then
//     the A/AAAA records of each exchange, in preference order, within smtp_mx_address_limit
//     and smtp_mx_session_limit).
//  2. TLS policy. For every server the policy is computed (package policy): the table entry or
//     global level, the match names, and, for DANE, the DNSSEC status of the MX and address
//     lookups and the server's TLSA records. An invalid policy means no connection at all.
//  3. The session. Connect (smtp_connect_timeout), read the 220 banner, send EHLO
//     (smtp_helo_timeout). If the level is above "none" and the server lists STARTTLS, send it;
//     a 2xx reply starts the TLS handshake (smtp_starttls_timeout). Bytes the server sends
//     before the handshake that were not asked for are discarded, never trusted (STARTTLS
//     response injection). The chain the server presents is kept exactly as sent.
//  4. The decision. The evaluator judges the session: deliver, defer and try the next server,
//     retry in plaintext (only at "may", only for old enough messages), or bounce on a 5xx
//     STARTTLS reply. The client stops at the first server Postfix would deliver to, and
//     sends QUIT politely.
//
// Every byte from the network is treated as hostile: line and reply-size limits, timeouts,
// and a context.Context that cancels everything.
//
// This package is being built; see the project's issues for its state.
package smtpclient
