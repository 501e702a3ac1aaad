// Package monitor checks destinations on a schedule with smtpclient.Check and serves what it
// found as Prometheus metrics.
//
// A Monitor is made with New from a Config (the Postfix settings, the destinations, the
// interval). Run checks every destination until its context ends: the first check of each
// destination comes after a random delay below Jitter (so a restart does not check everything
// at once), each further one Interval plus a random delay below Jitter after the previous
// one started (or at once, when that check took longer). One destination is never checked
// twice at the same time, and at most Concurrency checks run at once. Handler serves
// /metrics (the Prometheus text format) and /healthz; Serve runs it on a listener and shuts
// it down gracefully when its context ends.
//
// # Metrics
//
// Every series is labelled with the destination as configured (an address, a domain,
// "[host]" or "[host]:port"). The set of destinations is the operator's, so it is bounded.
//
//   - postfixtls_destination_deliver{destination,level,trust} (gauge): 1 when Postfix would
//     deliver to the destination (Verdict.Outcome is deliver, with TLS or, where the level
//     allows it, in plaintext), 0 when it would defer or bounce. level is the policy level of
//     the first next hop (Verdict.Policy.Level: none, may, encrypt, fingerprint, dane,
//     dane-only, verify, secure); trust is Postfix's word for the last TLS session
//     (Anonymous, Untrusted, Trusted, Verified) or "none" without TLS. A destination has one
//     series: when the level or the trust word changes, the series with the old labels is
//     deleted. A check that ends in an error leaves the last value in place (see
//     postfixtls_check_errors_total and postfixtls_last_check_timestamp_seconds).
//   - postfixtls_check_duration_seconds{destination} (histogram): how long each check took,
//     errors included, from 50 ms to 2 min. It is labelled by destination because one slow or
//     timing-out destination is what an operator looks for, and the destinations are few;
//     sum(rate(...)) by (le) gives the overall distribution.
//   - postfixtls_certificate_expiry_timestamp_seconds{destination,mx} (gauge): the NotAfter
//     time (Unix seconds) of the leaf certificate each MX host presented in the last check
//     that gave a verdict. mx is the host name Postfix connected to (the MX host, the
//     bracketed host, or the domain itself without MX records); when a host's addresses
//     presented different certificates, the earliest NotAfter is shown. Check stops at the
//     first server Postfix would deliver to, so only the hosts it tried have a series; the
//     series of hosts not tried in the last check are deleted.
//   - postfixtls_last_check_timestamp_seconds{destination} (gauge): when (Unix seconds) the
//     last check that gave a verdict finished. Alert on time() minus this value to catch a
//     destination that keeps failing to be checked.
//   - postfixtls_findings_total{code} (counter): the findings of every verdict, by their
//     stable finding code (finding.Code: "hostname-mismatch", "certificate-expired",
//     "starttls-not-offered", ...). A finding present in every check of a destination adds
//     one per check, so rate() shows how often it is seen.
//   - postfixtls_check_errors_total{destination} (counter): checks that gave no verdict (a
//     configuration Postfix would refuse to run with, a destination the SMTP client does not
//     deliver to, an invalid destination). Network failures are not errors: they are
//     verdicts. A check cut by the end of Run's context is not counted.
//   - postfixtls_checks_total{destination,outcome} (counter): checks that gave a verdict, by
//     Postfix's outcome (deliver, defer, bounce).
//
// The postfixtls_check_errors_total and postfixtls_check_duration_seconds series of every
// destination exist from New on (at 0); the others appear with the destination's first
// verdict. New registers the metrics on Config.Registry (or a registry of its own, which has
// no Go runtime or process metrics), so two Monitors need two registries.
package monitor
