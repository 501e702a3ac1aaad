// Package smtpclient is the only part of postfixtls that dials. It holds one SMTP session the
// way Postfix's smtp(8) holds it, records everything the server said and did, and leaves the
// judging (trust, matching, DANE, the delivery decision) to the policy evaluator.
//
// # One session, step by step (smtp_connect.c, smtp_proto.c)
//
//  1. Connect, within smtp_connect_timeout (30 s). A failure is Postfix's
//     "connect to host[addr]:port: Connection refused" (4.4.1).
//  2. Read the greeting. Anything but 2xx is "host host[addr] refused to talk to me: <reply>";
//     with smtp_skip_5xx_greeting = yes (the default) a 5xx greeting only defers (4.x.x).
//  3. Send EHLO (smtp_helo_name). A 421 ends the session; any other non-2xx reply makes Postfix
//     fall back to HELO, which offers no extensions. From the EHLO reply Postfix takes the
//     server name (first word of the first line) and one keyword per further line; STARTTLS
//     counts only there, so a one-line "250 STARTTLS" offers nothing, and only the first
//     line_length_limit bytes of reply text are looked at.
//  4. If the level wants TLS (may and above) and STARTTLS was offered, send it
//     (smtp_starttls_timeout). A non-2xx reply is, at levels above may,
//     "TLS is required, but host host[addr] refused to start TLS: <reply>" with the server's
//     enhanced status code (a 5xx reply therefore bounces); at may the session continues in
//     plaintext. No STARTTLS at all is "TLS is required, but was not offered by host
//     host[addr]" (4.7.4).
//  5. After a 2xx reply: discard whatever else the server already sent (STARTTLS response
//     injection, CVE-2011-0411: those bytes came in plaintext and must never be read as if they
//     came through TLS), then start TLS. Postfix checks its protocol list, cipher grade and
//     exclusions only now, so a bad setting shows up as a failed TLS start after a successful
//     STARTTLS: "Cannot start TLS: handshake failure" (4.7.5), and the connection is dropped
//     without QUIT. The same text covers every handshake failure.
//  6. A completed handshake is judged (not here). After a verification failure Postfix still
//     has a usable session and says QUIT; after success it sends EHLO again inside TLS.
//     Postfix does not wait for the QUIT reply (smtp_skip_quit_response = yes).
//  7. Only with ProbeOptions.Envelope (CheckOptions.ProbeRecipient), and only when
//     ProbeOptions.Continue judges that Postfix would go on (the TLS part delivers): EHLO
//     inside TLS (a 421 ends the session, another refusal falls back to HELO), MAIL FROM
//     (smtp_mail_timeout), RCPT TO unless MAIL FROM was refused (smtp_rcpt_timeout), then RSET
//     (smtp_rset_timeout) and QUIT — what Postfix's address verification sends. DATA is never
//     sent. The replies are judged by the evaluator: "host host[addr] said: <reply> (in reply
//     to RCPT TO command)", a 5xx bounces, a 4xx defers and the next server is tried. Without
//     an Envelope the session stops before MAIL FROM and the verdict says the recipient was
//     not tested. Commands are sent one at a time (no PIPELINING), which only a server that
//     depends on pipelining would notice.
//
// Wrapper mode (smtp_tls_wrappermode, port 465) starts TLS with the first byte and then does
// steps 2-3 inside TLS.
//
// # Replies (smtp_chat.c)
//
// A reply is read line by line; a line is "ddd-text" (more follow) or "ddd text"/"ddd" (the
// last). Other lines are kept as text and reading goes on. Lines longer than line_length_limit
// (2048) are cut, with Postfix's warning "response longer than 2048: ..."; once 2048 bytes of
// text are stored, further lines are read but dropped ("multi-line response longer than
// 2048 ..."). Non-printable bytes become "?", valid UTF-8 is kept, text after a NUL is lost.
// The code and the enhanced status code come from the last line; an enhanced code whose class
// differs from the reply's is replaced by "X.0.0". Package smtpclient/reply holds that reader (reply.Parse and
// reply.ParseEHLO expose it for replies taken from logs).
//
// # Hostile servers
//
// Every byte from the network is untrusted:
//
//   - Each step has a time limit from ProbeOptions (smtp_helo_timeout, smtp_starttls_timeout,
//     smtp_mail_timeout and smtp_rcpt_timeout default to 300 s, smtp_rset_timeout to 20 s,
//     as in Postfix). The limit covers the whole
//     step. Postfix's limit is per read (smtp_per_request_deadline = no), so a server that
//     trickles a line every few minutes holds Postfix indefinitely; here it cannot.
//   - MaxReplyBytes (64 KiB) caps the wire size of one reply: an endless multi-line reply
//     ends the session with KindLimit. Postfix has no such cap.
//   - Bytes sent before it was the server's turn (after the greeting, or after the STARTTLS
//     reply) are discarded and recorded in Session.Injections; they never reach the reply
//     parser or the TLS layer. (Postfix itself would read early bytes after the greeting as
//     the EHLO reply; this package reports them instead.)
//   - The context cancels every step at once; Probe leaves no goroutine behind.
//
// # TLS: what Go can and cannot reproduce
//
// TLSConfigFor maps Postfix's protocol list (§7.3: "!SSLv3", "TLSv1.2:TLSv1.3", ">=TLSv1.2",
// "<=0x0303"; ">="/"<=" need 3.6) and cipher grade plus exclusions (§7.2) to crypto/tls, the
// way OpenSSL 3 inside Postfix would see them: OpenSSL enables the lowest contiguous run of the
// versions left (so "!TLSv1.1" means TLS 1.0 only); the grade's cipher string is evaluated over
// OpenSSL 3.0's own suite list (anonymous suites included at may and encrypt, since
// "aNULL:-aNULL:HIGH" re-adds them) and Go offers the suites it has from that set. Invalid
// settings give Postfix's warning texts in TLSMapping.Abort ("Invalid TLS protocol list
// "<list>": aborting TLS session", "invalid cipher grade: "<g>"", "invalid unary '!+-@' in
// cipher exclusion: <x>", "error setting cipher grade: "<g>"").
//
// What Go cannot do is listed in TLSMapping.Gaps and Session.Gaps with stable codes:
// "openssl-only-suites" (DHE, CCM, ARIA, Camellia, PSK, SRP, CBC-SHA384 suites),
// "anonymous-suites" (Go has no aNULL suites, so no "Anonymous" sessions),
// "null-ciphers", "no-go-suites-below-tls13", "no-go-suites", "legacy-versions" (TLS 1.0/1.1
// offers differ), "security-level-1" (levels above encrypt: OpenSSL offers TLS 1.0/1.1 but
// fails (EC)DHE handshakes there; Go is given a TLS 1.2 floor), "key-exchange-groups" (no
// X448, no FFDHE), "sni-ip-literal" and "sni-trailing-dot" (Go never sends an IP address as
// SNI and strips a trailing dot). Certificates Go cannot parse make Go's handshake fail where
// OpenSSL may succeed; TLS 1.3 suites cannot be restricted in Go (nor by Postfix's grades).
//
// SNI is sent only when the caller asks (Postfix sends none unless servername= or DANE says
// so); names with non-ASCII characters go out as A-labels, names over 255 bytes abort TLS
// ("ignoring too long SNI hostname"). The server's chain is kept byte for byte as sent.
//
// Probe does not restrict where it connects; this package's tests talk to loopback only.
package smtpclient
