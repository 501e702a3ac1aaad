package explaincmd

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/internal/release"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/stretchr/testify/require"
)

// configDir writes a configuration directory with main.cf and returns its path.
func configDir(t *testing.T, mainCF string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
	return dir
}

// runFailed runs explain, which must find failed deliveries, and returns its output.
func runFailed(t *testing.T, args []string, stdin io.Reader) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdin, &out, &errb)
	require.Equal(t, exitFailed, code, errb.String())
	return out.String()
}

func TestRunSeedWithConfig(t *testing.T) {
	table := filepath.Join(t.TempDir(), "tls_policy")
	require.NoError(t, os.WriteFile(table, []byte("fastmail.test secure\n"), 0o644))
	dir := configDir(t, "smtp_tls_policy_maps = texthash:"+table+"\nsmtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt\n")
	out := runFailed(t, []string{"-c", dir, "../../../../maillog/testdata/oracle/fastmail-secure-l2.log"}, nil)
	require.Contains(t, out, "fix: fastmail.test secure match=.messagingengine.test")
	require.Contains(t, out, "== fastmail.test (1 deliveries: deferred 1; 1 recipients)")
}

func TestRunJSONStdinGroupsAndOrders(t *testing.T) {
	var in bytes.Buffer
	for _, f := range []string{"verify-wrong-ca-l1", "fastmail-secure-l1", "verify-expired-l1", "fastmail-verify-l1"} {
		b, err := os.ReadFile("../../../../maillog/testdata/oracle/" + f + ".log")
		require.NoError(t, err)
		in.Write(b)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json"}, &in, &out, &errb)
	require.Equal(t, exitFailed, code, errb.String())
	var res struct {
		Version      string `json:"log_version"`
		Explanations []struct {
			Destination string
			Deliveries  int
			Statuses    map[string]int
			Missing     []string
		}
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Equal(t, "3.7.11", res.Version)
	require.Len(t, res.Explanations, 2, "fastmail.test and example.test (the verify delivery succeeded)")
	// newest first: example.test's expired-certificate deferral is after fastmail's.
	require.Equal(t, "example.test", res.Explanations[0].Destination)
	require.Equal(t, 2, res.Explanations[0].Deliveries)
	require.Equal(t, "fastmail.test", res.Explanations[1].Destination)
	require.Equal(t, map[string]int{"deferred": 1, "sent": 1}, res.Explanations[1].Statuses)
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), []string{"-nope"}, nil, &out, &errb))
	require.Equal(t, exitUsage, run(context.Background(), []string{"/nonexistent/file"}, nil, &out, &errb))
	require.Equal(t, exitOK, run(context.Background(), nil, strings.NewReader(""), &out, &errb))
}

// TestRunMissingMainCF checks that a -C directory without main.cf is a usage error whose
// text names the path once (Postfix's mail_conf_suck is fatal there too).
func TestRunMissingMainCF(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-c", dir, "../../../../maillog/testdata/oracle/dane-311-mismatch-l1.log"}, nil, &out, &errb)
	require.Equal(t, exitUsage, code)
	require.Equal(t, "postfixtls explain: postfix configuration error: open "+filepath.Join(dir, "main.cf")+": no such file or directory\n", errb.String())
}

// TestRunEmulated checks the release explain emulates with -C and where it came from
// (-version, the log's "daemon started -- version X" line from master(8), else the newest
// known), in the text's first line and in -json's "emulated"; without -C nothing is
// emulated and nothing is said.
func TestRunEmulated(t *testing.T) {
	dir := configDir(t, "smtp_tls_policy_maps = inline:{example.test=verify}\n")
	b, err := os.ReadFile("../../../../maillog/testdata/oracle/verify-wrong-ca-l1.log")
	require.NoError(t, err)
	withVersion := string(b)
	noVersion := strings.ReplaceAll(withVersion, "postfix/master[205]: daemon started -- version 3.7.11, configuration /etc/postfix\n", "")
	require.NotEqual(t, withVersion, noVersion)
	// Without a version in the log: the installed Postfix's (as examples/check), else the
	// newest known.
	defText := "postfix      " + policy.Latest().String() + `  from newest release known (the log shows no "daemon started -- version" line and no installed Postfix answered; use -version)`
	defVersion, defFrom := policy.Latest().String(), "latest"
	if v, how, ok := release.Installed(context.Background(), dir); ok {
		defText, defVersion, defFrom = "postfix      "+v.String()+"  from "+how, v.String(), "installed"
	}
	for _, c := range []struct {
		name     string
		args     []string
		log      string
		text     string // the first line of the text output ("" for none)
		version  string // -json "emulated" ("" for none)
		from     string
		logField string // -json "log_version"
	}{
		{"the -version flag wins over the log", []string{"-c", dir, "-version", "3.6.1"}, withVersion,
			"postfix      3.6.1  from -version", "3.6.1", "-version", "3.7.11"},
		{"master(8) daemon started -- version", []string{"-c", dir}, withVersion,
			"postfix      3.7.11  from the log (master: daemon started -- version 3.7.11)", "3.7.11", "log", "3.7.11"},
		{"no version in the log: the installed release, else the newest known", []string{"-c", dir}, noVersion,
			defText, defVersion, defFrom, ""},
		{"without -C no release is emulated", nil, withVersion, "", "", "", "3.7.11"},
	} {
		t.Run(c.name, func(t *testing.T) {
			first, _, _ := strings.Cut(runFailed(t, c.args, strings.NewReader(c.log)), "\n")
			if c.text == "" {
				require.True(t, strings.HasPrefix(first, "== example.test "), first)
			} else {
				require.Equal(t, c.text, first)
			}

			out := runFailed(t, append([]string{"-json"}, c.args...), strings.NewReader(c.log))
			var res struct {
				LogVersion string `json:"log_version"`
				Emulated   *struct {
					Version policy.Version `json:"version"`
					From    string         `json:"from"`
				} `json:"emulated"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			require.Equal(t, c.logField, res.LogVersion)
			if c.version == "" {
				require.Nil(t, res.Emulated)
				return
			}
			require.NotNil(t, res.Emulated)
			require.Equal(t, c.version, res.Emulated.Version.String())
			require.Equal(t, c.from, res.Emulated.From)
		})
	}
	var out, errb bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), []string{"-version", "3.x"}, strings.NewReader(withVersion), &out, &errb))
	require.Equal(t, "postfixtls explain: -version: invalid Postfix version \"3.x\": \"x\" is not a number\n", errb.String(), "the value once")
}

// TestRunSkippedLines checks the report of lines that are not log lines: the oracle logs'
// "# case ..." header, counted in the right number.
func TestRunSkippedLines(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"../../../../maillog/testdata/oracle/verify-wrong-ca-l1.log"}, nil, &out, &errb)
	require.Equal(t, exitFailed, code)
	require.Equal(t, "postfixtls explain: 1 line skipped or not understood (first: line 1: not a Postfix log line: a \"#\" comment)\n", errb.String())
	errb.Reset()
	code = run(context.Background(), nil, strings.NewReader("# one\n\nnot a log line\npostfix/qmgr[1]: ABCDE12345: removed\n"), &out, &errb)
	require.Equal(t, exitOK, code)
	require.Equal(t, "postfixtls explain: 2 lines skipped or not understood (first: line 1: not a Postfix log line: a \"#\" comment)\n", errb.String(), "the blank line is skipped silently")
}

// TestRunSuspended runs explain -C on the real Postfix 3.7.11 log in which qmgr(8)
// suspended the destination ("delivery temporarily suspended", relay=none): the story says
// so and the finding is that of the newest delivery that connected.
func TestRunSuspended(t *testing.T) {
	dir := configDir(t, "smtp_tls_policy_maps = inline:{example.test=verify}\nsmtp_tls_CAfile = /etc/postfix/rootca.pem\n")
	out := runFailed(t, []string{"-c", dir, "../../../../maillog/testdata/oracle/verify-wrong-ca-suspended-l1.log"}, nil)
	require.Contains(t, out, "   verdict: deferred: delivery temporarily suspended: Server certificate not verified (dsn=4.7.5, relay=none); 11 status lines for this destination\n")
	require.Contains(t, out, "   - not attempted: the queue manager had suspended deliveries to this destination after a delivery to it failed, and deferred this one without connecting; the newest earlier failed delivery with connections, D6AFD984906 to user4@example.test at Dec 03 19:32:31")
	require.Contains(t, out, "   policy: verify (")
	require.Contains(t, out, "   finding issuer-not-trusted: The chain of mx.example.test[127.0.1.20]:25 ends at /O=Postfix TLS Oracle/CN=Oracle Other (untrusted) Root CA")
	require.NotContains(t, out, "missing:")
}

// runCode runs explain and returns its exit status, stdout and stderr.
func runCode(t *testing.T, args []string, stdin io.Reader) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdin, &out, &errb)
	return code, out.String(), errb.String()
}

// stamped prefixes every bare oracle line with an RFC 3164 stamp and, when host is not
// "", a host field.
func stamped(t *testing.T, name, stamp, host string) string {
	t.Helper()
	b, err := os.ReadFile("../../../../maillog/testdata/oracle/" + name + ".log")
	require.NoError(t, err)
	var sb strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		sb.WriteString(stamp + " ")
		if host != "" {
			sb.WriteString(host + " ")
		}
		sb.WriteString(l + "\n")
	}
	return sb.String()
}

// TestRunInputForms: gzip (by its magic bytes, on a file and on standard input), syslog
// without a host field, and the timestamp kept as logged.
func TestRunInputForms(t *testing.T) {
	log := stamped(t, "verify-wrong-ca-l1", "Feb  2 12:15:21", "")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte(log))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	file := filepath.Join(t.TempDir(), "maillog") // no .gz: detected by content
	require.NoError(t, os.WriteFile(file, gz.Bytes(), 0o644))
	for _, c := range []struct {
		name  string
		args  []string
		stdin io.Reader
	}{
		{"plain, no host field", []string{"-json"}, strings.NewReader(log)},
		{"gzip file", []string{"-json", file}, nil},
		{"gzip on stdin", []string{"-json", "-"}, bytes.NewReader(gz.Bytes())},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCode(t, c.args, c.stdin)
			require.Equal(t, exitFailed, code, errs)
			require.Empty(t, errs)
			var res struct {
				Explanations []struct {
					Destination, Last string
					Latest            map[string]any
				}
				Counts counts
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			require.Len(t, res.Explanations, 1)
			require.Equal(t, "example.test", res.Explanations[0].Destination)
			require.Equal(t, "Feb  2 12:15:21", res.Explanations[0].Last, "as logged: no year, no zone")
			require.Equal(t, "Feb  2 12:15:21", res.Explanations[0].Latest["logged"])
			require.NotContains(t, res.Explanations[0].Latest, "time")
			require.Equal(t, res.Counts.Lines, res.Counts.PostfixLines)
		})
	}
	code, out, _ := runCode(t, nil, strings.NewReader(log))
	require.Equal(t, exitFailed, code)
	require.Contains(t, out, "   last: Feb  2 12:15:21\n")
}

// TestRunNoPostfixLines: an input with lines of which none is Postfix's is an error
// naming the input, not "no failed deliveries found".
func TestRunNoPostfixLines(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "binary")
	require.NoError(t, os.WriteFile(bin, []byte("\x7fELF\x02\x01\x01\x00\x00\n\x00\x01\x02"), 0o644))
	finger := filepath.Join(dir, "finger.txt")
	require.NoError(t, os.WriteFile(finger, []byte("posttls-finger: Connected to mx.example.com[192.0.2.1]:25\nposttls-finger: < 220 mx.example.com ESMTP\nposttls-finger: Verified TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"), 0o644))
	for _, f := range []string{bin, finger} {
		code, out, errs := runCode(t, []string{f}, nil)
		require.Equal(t, exitUsage, code)
		require.Empty(t, out)
		require.Equal(t, "postfixtls explain: no Postfix log lines found in "+f+"\n", errs)
	}
	code, _, errs := runCode(t, nil, strings.NewReader("sshd[1]: Accepted publickey\n"))
	require.Equal(t, exitUsage, code)
	require.Equal(t, "postfixtls explain: no Postfix log lines found in standard input\n", errs)
	// An empty input is no error: there is nothing to explain.
	code, out, _ := runCode(t, nil, strings.NewReader(""))
	require.Equal(t, exitOK, code)
	require.Equal(t, "no failed deliveries found\n", out)
}

// TestRunCaps: destinations beyond -max-destinations are counted, in the text and in JSON.
func TestRunCaps(t *testing.T) {
	var in bytes.Buffer
	for _, f := range []string{"verify-wrong-ca-l1", "fastmail-secure-l1", "mx-fallback-second-mx-l1"} {
		b, err := os.ReadFile("../../../../maillog/testdata/oracle/" + f + ".log")
		require.NoError(t, err)
		in.Write(b)
	}
	code, out, _ := runCode(t, []string{"-max-destinations", "1"}, bytes.NewReader(in.Bytes()))
	require.Equal(t, exitFailed, code)
	require.Contains(t, out, "\nnot shown: 1 destinations (more than -max-destinations 1); 1 of their 1 deliveries failed\n")
	code, out, _ = runCode(t, []string{"-json", "-max-destinations", "1"}, bytes.NewReader(in.Bytes()))
	require.Equal(t, exitFailed, code)
	var res struct {
		Explanations []json.RawMessage
		Counts       counts
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res.Explanations, 1)
	require.Equal(t, int64(1), res.Counts.DestinationsDropped)
	require.Equal(t, int64(1), res.Counts.FailedDeliveriesDropped)
	require.Equal(t, 1, res.Counts.MaxDestinations)
	code, _, errs := runCode(t, []string{"-max-destinations", "0"}, nil)
	require.Equal(t, exitUsage, code)
	require.Equal(t, "postfixtls explain: -max-destinations 0: must be at least 1\n", errs)
}

// TestRunFileOrder: files are read oldest first by their first timestamp, so the newest
// delivery is the newest whatever order they are given in.
func TestRunFileOrder(t *testing.T) {
	dir := t.TempDir()
	older := filepath.Join(dir, "maillog.1")
	newer := filepath.Join(dir, "maillog")
	require.NoError(t, os.WriteFile(older, []byte(stamped(t, "verify-expired-l1", "Nov 21 03:00:00", "mx")), 0o644))
	require.NoError(t, os.WriteFile(newer, []byte(stamped(t, "verify-wrong-ca-l1", "Nov 22 03:00:00", "mx")), 0o644))
	for _, args := range [][]string{{newer, older}, {older, newer}} {
		code, out, errs := runCode(t, args, nil)
		require.Equal(t, exitFailed, code, errs)
		require.Contains(t, out, "== example.test (2 deliveries: deferred 2; 1 recipients)\n   last: Nov 22 03:00:00\n", args)
		require.Contains(t, out, "untrusted issuer", "the newer failure is explained")
	}
}
