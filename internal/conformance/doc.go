// Package conformance is the project's proof that it reproduces Postfix rather than an
// imitation of it: every case runs twice in the same private world, once through real Postfix
// (Debian's postfix 3.7.11 by default, or an upstream release tree, its smtp(8) delivering one
// message) and once through the library (policy.Load of the same main.cf and tables, emulating
// that release, smtpclient.Check against the same servers and the same resolver), and the two
// verdicts must agree on the outcome (deliver, defer,
// bounce), the DSN, the reason text and the TLS trust word (Anonymous, Untrusted, Trusted,
// Verified); every warning smtp(8) logs must also be among the library's log lines, word for
// word (OpenSSL's own "TLS library problem" error stack excepted).
//
// # The world of one case
//
// TestConformance re-executes the test binary as PID 1 of fresh Linux namespaces
// (unshare --net --mount --pid): a network with only its own loopback, private mounts and a
// pid namespace whose end kills every daemon. Inside, RunWorld builds:
//
//	127.0.53.2:53   nsd, authoritative for "test." (signed with ldns-signzone, fresh keys per
//	                case), its unsigned child "insecure.test." (no DS: provably insecure) and
//	                "bogus.test." (signed, but the parent's DS names an unrelated key: bogus)
//	127.0.53.1:53   unbound, validating, whose only trust anchor is the KSK of "test."
//	/etc/resolv.conf  bind-mounted: "nameserver 127.0.53.1" and "options trust-ad" (without
//	                trust-ad glibc clears the AD bit and Postfix would see no DNSSEC)
//	127.0.1.x:port  STARTTLS servers (internal/testkit/smtpd) with the case's certificates,
//	                or without STARTTLS, or refusing it with a 454 reply
//	/etc/postfix    bind-mounted from the case's directory: main.cf, master.cf (no chroot, no
//	                smtpd listener, postlogd writing maillog_file), the texthash tables
//	                tls_policy and transport
//
//	127.0.1.250:443 an HTTPS server publishing the case's MTA-STS policy (Case.MTASTS) as
//	                mta-sts.<domain>, and 127.0.0.1:port a real mta-sts-daemon
//	                (postfix-mta-sts-resolver) that smtp_tls_policy_maps queries by socketmap
//
// Postfix's own address (inet_interfaces) is 127.0.0.1, so servers never use it: Postfix would
// call that a mail loop. Postfix sleeps while main.cf or a table is less than a second old
// ("waiting for the file to settle"), so the files are backdated.
//
// # Postfix's side
//
// The message goes in through sendmail (postdrop, pickup, cleanup, qmgr, smtp). ParseMaillog
// reads maillog_file: the queue id from pickup, the "to=<...>, relay=..., dsn=D,
// status=S (reason)" record of that queue id, and the trust word of the last "X TLS
// connection established" line of smtp(8).
//
// # Other Postfix releases
//
// CONFORMANCE_POSTFIX selects the Postfix that runs (SelectRelease): empty or "debian" is the
// Debian package (/usr/sbin/postfix, /etc/postfix, compatibility_level 3.7); a version such as
// 3.11.6 is an upstream release built by the shared oracle's build-postfix from
// ../shared/oracle/src/postfix-VERSION.tar.gz (CONFORMANCE_ORACLE overrides the directory)
// into CacheDir()/<sha256 of the tarball>/VERSION (CONFORMANCE_CACHE, else
// $XDG_CACHE_HOME/postfixtls/postfix or ~/.cache/postfixtls/postfix), once: a tree whose
// BUILD-INFO names the tarball's sha256 is reused, and a failed build fails the test with
// "BUILD FAILED" and the end of build-postfix's output; a value with a slash is such a tree
// itself. Postfix 2.x is skipped with the reason (its TLS code needs OpenSSL 1.0). The world
// then runs the tree as run-case --postfix does: its commands first on PATH (its daemons come
// from its built-in daemon_directory), the case's configuration directory seeded from the
// tree's etc/postfix and bind-mounted over both /etc/postfix and the tree's built-in
// config_directory, the base main.cf with the release's own compatibility_level (BUILD-INFO:
// 2 for 3.4/3.5, 3.6 ... 3.11; none before 3.0) plus the tree's directory parameters, no
// postlog service before 3.4, and the maillog must show "daemon started -- version V,". The
// library emulates `postconf -d mail_version` of the tree. The oracle cases are compared with
// the oracle's record for that release (cases/NAME/postfix-VERSION.json of record-versions)
// where there is one. All trees link the system's OpenSSL 3.0, which 3.4 and 3.5 never shipped
// with (Debian 11 pairs 3.5 with OpenSSL 1.1.1): what OpenSSL 1.1.1 would change, e.g. for
// DANE-TA 2 1 1 anchors, is not covered.
//
// # The cases
//
// OracleCases translates the public cases of the shared oracle, with what Postfix 3.7.11
// recorded for them; the suite also checks that Postfix in this harness still does exactly
// that, which proves the harness. MatrixCases generates the factor matrix: security levels
// against certificate kinds (SAN, CN only, wildcards one and two labels deep, expired, not
// yet valid, self-signed, wrong CA, missing intermediate, issued directly by the root) and
// STARTTLS behaviour (absent, refused); match lists at verify and secure; fingerprint
// digests and forms; TLSA record sets (usages 2 and 3, selectors 0 and 1, matching types 0,
// 1 and 2, stale and unusable records); DNS security (signed, insecure, bogus, CNAME'd MX, no
// MX, NXDOMAIN); policy table key forms with transport next hops ([host], [host]:port,
// host:port, .parent, [address]); table errors (invalid levels and attributes, missing
// CA and trust-anchor files); the replies to MAIL FROM and RCPT TO after the TLS part
// (rcpt/*: servers answering with a configured 4xx or 5xx reply; the library runs with its
// recipient probe in those cases only); and MTA-STS policies served through
// postfix-mta-sts-resolver (enforce, testing with and without strict_testing, none, a failed
// fetch; mx patterns that match, a wildcard, one that does not; the socketmap before and
// after a texthash row).
//
// # Known differences
//
// known-differences.md lists the cases where the library and Postfix still differ, each with
// the releases it applies to ("debian", versions, or "*"), both verdicts and the reason. The suite asserts every row exactly, fails when a listed
// difference disappears (so the row must go) and always fails when the library would
// deliver where Postfix defers.
//
// # Running it
//
//	make conformance          # this suite alone, ending with "N passed, N failed"
//	CONFORMANCE_POSTFIX=3.11.6 # against that upstream release (built once, cached)
//	make conformance-releases # Debian, 3.5.27, 3.10.13, 3.11.6: "RELEASE: N passed, N failed" each
//	make conformance-all      # Debian and every release in ../shared/oracle/src, and a total
//	CONFORMANCE_JOBS=2        # cases run in parallel (default 3)
//	CONFORMANCE_OUT=FILE      # write every result as JSON lines
//	CONFORMANCE_KEEP=1        # keep the work directories of a failed run
//	make conformance-fixes    # TestConformanceFixes (CONFORMANCE_FIXES=1): for every case where
//	                          # Postfix defers, the library's first fix (Result.FirstFix) is applied
//	                          # with ApplyFix and the fixed case runs again; it ends with
//	                          # "fixes: N deferred, N with a first fix, ..." and the cases whose
//	                          # fix does not make Postfix deliver
//
// It needs root, unshare, iproute2, postfix, nsd, unbound, ldnsutils and
// postfix-mta-sts-resolver. Without them the test
// skips with a message, or fails when CI=true.
package conformance
