package maincf

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// postconfPath finds the real postconf(1), or skips (fails in CI) when it is missing.
func postconfPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/postconf"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("postconf"); err == nil {
		return p
	}
	need.Missing(t, "postconf not found: install the postfix package (Debian: apt-get install postfix)")
	return ""
}

// postconfDir writes main.cf (and master.cf) into a fresh directory.
func postconfDir(t testing.TB, mainCF, masterCF string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "master.cf"), []byte(masterCF), 0o644))
	// dict_load_file_xt() re-reads a file modified within the last second ("hot"),
	// repeating its warnings; age the files so postconf reads them once.
	old := time.Now().Add(-time.Hour)
	for _, n := range []string{"main.cf", "master.cf"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, n), old, old))
	}
	return dir
}

type postconfResult struct {
	stdout   string
	warnings []string // text after "postconf: warning: "
	fatal    string   // text after "postconf: fatal: "
}

// runPostconf runs postconf -c dir args... and splits its output.
func runPostconf(t testing.TB, dir string, args ...string) postconfResult {
	t.Helper()
	bin := postconfPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-c", dir}, args...)...)
	cmd.Args[0] = "postconf" // message prefix "postconf: "
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	_ = cmd.Run() // a fatal exit is part of the result
	res := postconfResult{stdout: out.String()}
	for _, l := range strings.Split(errb.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "postconf: warning: "):
			res.warnings = append(res.warnings, strings.TrimPrefix(l, "postconf: warning: "))
		case strings.HasPrefix(l, "postconf: fatal: "):
			res.fatal = strings.TrimPrefix(l, "postconf: fatal: ")
		}
	}
	return res
}

// msgPrintable is what Postfix's logging does to control characters.
func msgPrintable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

// normWS collapses whitespace the way postconf's output routine does.
func normWS(s string) string { return strings.Join(strings.Fields(s), " ") }

// rawNames367 is the raw-parameter table of Postfix 3.7 (postconf raw_table.h).
var rawNames367 = map[string]bool{
	"smtpd_expansion_filter": true, "default_rbl_reply": true, "smtpd_reject_footer": true,
	"command_execution_directory": true, "forward_path": true, "mailbox_command": true,
	"luser_relay": true, "postscreen_reject_footer": true, "postscreen_expansion_filter": true,
}

// oracleDefaults is the real Postfix's default table (postconf -d).
type oracleDefaults map[string]string

func (d oracleDefaults) Default(n string) (string, bool) { v, ok := d[n]; return v, ok }
func (d oracleDefaults) IsRaw(n string) bool             { return rawNames367[n] }
func (d oracleDefaults) Names() []string {
	var out []string
	for n := range d {
		out = append(out, n)
	}
	return out
}

func loadOracleDefaults(t testing.TB) oracleDefaults {
	t.Helper()
	dir := postconfDir(t, "", "")
	res := runPostconf(t, dir, "-d")
	require.Empty(t, res.fatal, "postconf -d")
	d := oracleDefaults(parsePostconfListing(res.stdout))
	// postconf -d hides its "legacy" parameters (postconf_builtin.c
	// pcf_legacy_str_table): known, default "", referenced by newer defaults.
	for _, n := range []string{"virtual_maps", "fallback_relay", "authorized_verp_clients",
		"smtpd_client_connection_limit_exceptions", "postscreen_dnsbl_ttl",
		"postscreen_blacklist_action", "postscreen_dnsbl_whitelist_threshold",
		"postscreen_whitelist_interfaces", "lmtp_per_record_deadline", "smtp_per_record_deadline",
		"smtpd_per_record_deadline", "tlsproxy_client_level", "tlsproxy_client_policy"} {
		if _, ok := d[n]; !ok {
			d[n] = ""
		}
	}
	return d
}

func parsePostconfListing(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		name, value, ok := strings.Cut(l, " = ")
		if !ok {
			if n, found := strings.CutSuffix(l, " ="); found {
				name, value, ok = n, "", true
			}
		}
		if ok {
			m[name] = value
		}
	}
	return m
}

// runPostconfAll runs postconf for every job concurrently: each fatal error costs
// postconf a sleep(1), so running them one by one would be slow.
func runPostconfAll(t testing.TB, jobs []postconfJob) []postconfResult {
	t.Helper()
	postconfPath(t)
	out := make([]postconfResult, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, j := range jobs {
		dir := postconfDir(t, j.main, j.master)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = runPostconf(t, dir, j.args...)
		}()
	}
	wg.Wait()
	return out
}

type postconfJob struct {
	main, master string
	args         []string
}

func (r postconfResult) stdoutNames() map[string]string { return parsePostconfListing(r.stdout) }
