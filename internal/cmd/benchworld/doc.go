// Package benchworld holds the performance benchmarks of issue 5 that need a whole test
// world: a DNSSEC-signed zone served by a real nsd behind a real validating unbound
// (internal/testkit/dnskit) and loopback STARTTLS servers (internal/testkit/smtpd).
//
// Two questions are measured against the same servers and the same DNS, in one run:
//
//   - BenchmarkCLIvsFinger: the wall time of one "postfixtls check" process against the wall
//     time of one posttls-finger process (Postfix's own TLS client) asking the same question
//     of the same server. posttls-finger runs with a private MAIL_CONFIG whose main.cf is
//     backdated (Postfix waits for a main.cf younger than one second to settle). The goal is
//     check ≤ 1/10 of posttls-finger.
//   - BenchmarkCheckParallel: smtpclient.Check, the library, from all cores against one
//     loopback server with DNS lookups (MX, address, TLSA) through unbound and a DANE
//     verification per check. The goal is ≥ 500 checks/s on 2 cores (issue 15: ≥ 1,000).
//   - BenchmarkCLIvsFinger/pair/check-vs-bare-go: one "postfixtls check user@example.test"
//     process and one internal/cmd/bareclient process (a bare Go STARTTLS client doing the
//     same MX, A and TLSA lookups and the DANE-EE handshake, nothing else), in turn; it
//     reports the median wall time of each and their ratio. The goal is ≤ 1.5.
//   - BenchmarkBatchMemory: one check process over 1,000, 10,000 and 100,000 destinations
//     (a wildcard MX in the signed zone): the peak resident memory must not grow with the
//     count.
//
// scripts/bench-check.sh builds the check command, runs both benchmarks and prints the ratio.
// posttls-finger reads /etc/resolv.conf (port 53 only), so it cannot use the test resolver
// on its dynamic port: the like-for-like comparison is an explicit "[addr]:port" next hop,
// which needs no DNS; the DNS-and-DANE check of the CLI is reported beside it.
package benchworld
