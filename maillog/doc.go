// Package maillog reads Postfix mail logs and rebuilds, per queue ID and recipient,
// what the SMTP client did: the servers it connected to, the TLS session of each, the
// certificate verification failures, and Postfix's verdict. With a configuration
// (policy.Settings) it explains the failure the way a live check would, as far as the log
// holds the evidence, and says which evidence is missing otherwise.
//
// # What Postfix logs
//
// Every line has a syslog tag "syslog_name/service[pid]": "postfix/smtp[1234]",
// "postfix-out/smtp[1234]" (a second instance), "postfix/relay/smtp[1234]" (a master.cf
// -o syslog_name). Lines come as RFC 3164 syslog ("Nov 22 03:00:00 host ..."), the same
// without the host field ("Feb  2 12:15:21 postfix/smtp[1520]: ..."), as Postfix 3.4+
// maillog_file lines ("Dec 03 19:32:31 host ..."), with ISO 8601 / RFC 3339 stamps
// (rsyslog, journald), as RFC 5424 frames, or bare ("postfix/smtp[1520]: ..."); ParseLine
// reads them all.
//
// # Times
//
// Every Line, Attempt and Delivery keeps its timestamp as logged (Logged). Time is that
// text parsed, for ordering only: an RFC 3164 stamp has no year and no zone, so Time then
// carries Options.Year and says UTC though syslog wrote local time. JSON carries Logged,
// never Time.
//
// One delivery by smtp(8) produces, in this order and from one process:
//
//   - at smtp_tls_loglevel 2: "setting up TLS connection to host[addr]:port", the
//     "depth=N verify=V subject=/CN=..." lines of OpenSSL's chain walk, "matched peername:
//     X", and "host[addr]:port: subject_CN=X, issuer_CN=Y, fingerprint=F,
//     pkey_fingerprint=P" (3.9+: "issuer=Y, cert fingerprint=F, pkey fingerprint=P");
//     Postfix <= 3.5 also logs "host[addr]:port: [Matched ]subjectAltName: X" and
//     "host[addr]:port [Matched ]CommonName X";
//   - whenever the level requires a match (even at loglevel 0): "[server |CA ]certificate
//     verification failed for host[addr]:port: reason" ("num=62:hostname mismatch",
//     "untrusted issuer /CN=...", "certificate has expired", ...), or, for a resumed
//     session, "host[addr]:port: re-using session with untrusted peer credential, look
//     for details earlier in the log";
//   - at loglevel 1: "<Trust> TLS connection established to host[addr]:port: TLSv1.3 with
//     cipher X (128/128 bits)", Trust being Anonymous, Untrusted, Trusted or Verified;
//   - when the server fails and another one is left: "<queue id>: <reason>", then the next
//     server's lines;
//   - finally "<queue id>: to=<rcpt>, relay=host[addr]:port, delay=, delays=, [tls=,]
//     dsn=X.Y.Z, status=sent|deferred|bounced (reason)", one per recipient.
//
// TLS lines carry no queue ID: the Reader keeps, per process (host and pid), the
// connections not yet claimed, and hands them to the next queue ID that process logs.
// Warnings (policy table syntax, "TLS policy lookup for ...", DANE configuration) are
// claimed the same way. A queue ID's pass ends with its status lines; the state of a
// queue ID is dropped when qmgr logs "removed", when its process moves on to another
// queue ID, or when the caps of Options are reached (the entries not seen for longest
// first, counted in Stats.EvictedQueueIDs and Stats.EvictedProcesses when they held
// unclaimed lines), so memory is bounded by the open queue IDs and processes, not by the
// log's length. Diagnostics are kept one per kind, with a count.
//
// # Reading fast
//
// Most of the work is per line and needs nothing but the line: the header, which kind of
// line it is, the names and reasons it carries. The Reader reads its input in blocks of
// whole lines (about 256 KiB), parses each block's lines on Options.Workers goroutines a
// few blocks ahead (Next parses too while it has nothing to apply), and applies the parsed
// lines, in the log's order, to the per-process and per-queue-ID state in the goroutine
// that calls Next. How the input arrives (a byte per Read or a block) and the number of
// workers change nothing it reports. A parsed line holds no pointers (its header and what
// it does live in tables of its block, added to only when they change), a line's strings
// are copied only where the state keeps them, and a connection's repeated names (server,
// certificate names, cipher) share one copy. The Collector keeps its deliveries packed in
// pointer-free buffers, which the garbage collector does not trace.
//
// # Explaining
//
// A Collector groups deliveries by destination (the next hop the configuration routes the
// recipient to, or the recipient domain) and explains the newest failure of each: the
// attempts in words, Postfix's verdict, findings (finding.Finding, with the same codes
// and fixes as the live check) and missing evidence. It keeps at most
// ExplainOptions.MaxDestinations destinations and counts the rest (Collector.Stats).
//
// After failed deliveries qmgr(8) may mark a destination dead and defer its other
// recipients without handing them to smtp(8): "<queue id>: to=<rcpt>, relay=none, ...,
// status=deferred (delivery temporarily suspended: <the failure's reason>)", logged by the
// retry transport (postfix/error) or by qmgr, with no connection lines (SuspendedPrefix,
// Delivery.Suspended). The Collector keeps, per destination, the newest failed delivery
// that had connections; when the newest failure is a suspension, the explanation says so
// and takes its attempts and findings from that delivery (Explanation.Attempted), or, when
// the log holds none, asks for an older log (MissingAttempt).
//
// The log never contains the certificate. When the log proves that the chain was trusted
// and only the name check failed (the only verification error is "num=62:hostname
// mismatch", or the trust word is Trusted/Verified) and loglevel-2 lines show the
// certificate's names, Explain re-runs Postfix's name check with verdict.Evaluate on a
// stand-in chain: a throw-away CA (SynthesizedCAName) and a leaf carrying only the logged
// names. The stand-in is trusted only because the log shows the real chain was; it is
// never output. Postfix >= 3.6 logs the subject CN only, so the explanation then notes
// that the certificate may carry more names. Without the names the explanation asks for
// them (MissingNames: raise smtp_tls_loglevel to 2, or run postfixtls check).
package maillog
