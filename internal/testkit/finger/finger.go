// Package finger runs the real posttls-finger(1) privately against a loopback server and
// parses its verdict, so tests can check this project's answers against Postfix's own TLS
// library (levels, peer-name matching, fingerprints).
//
// Each Run gets its own MAIL_CONFIG directory with a purpose-made main.cf, so no system
// configuration is read and runs can proceed in parallel. posttls-finger is killed when
// the context ends.
package finger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// DefaultPath is where Debian installs posttls-finger.
const DefaultPath = "/usr/sbin/posttls-finger"

// ErrNotInstalled is returned when posttls-finger cannot be found.
var ErrNotInstalled = errors.New("finger: posttls-finger not installed (apt-get install postfix)")

// Path returns the posttls-finger binary, or ErrNotInstalled.
func Path() (string, error) {
	if fi, err := os.Stat(DefaultPath); err == nil && !fi.IsDir() {
		return DefaultPath, nil
	}
	if p, err := exec.LookPath("posttls-finger"); err == nil {
		return p, nil
	}
	return "", ErrNotInstalled
}

// Require returns the posttls-finger path, or ends the test: t.Fatal when the CI
// environment variable is "true", t.Skip otherwise.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Path()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// Options describe one posttls-finger run.
type Options struct {
	// Destination is the posttls-finger destination, e.g. "[127.0.0.1]:2525". With a
	// bracketed IP the nexthop domain and hostname are that IP.
	Destination string
	// Level is the security level for -l (may, encrypt, fingerprint, verify, secure, ...).
	Level string
	// Match are the match arguments (names at verify/secure, fingerprints at fingerprint);
	// each argument is one name or one fingerprint.
	Match []string
	// Digest sets -d (the fingerprint digest); empty uses the main.cf default.
	Digest string
	// CAFile sets -F; CAPEM, when set, is written to a private file used as -F.
	CAFile string
	CAPEM  []byte
	// PrintChain adds -C: posttls-finger prints the peer chain (subject, issuer, cert and
	// pkey digests, PEM) after "Certificate chain"; see Result.Chain.
	PrintChain bool
	// LogOpts sets -L; empty means "summary,certmatch,untrusted".
	LogOpts string
	// CompatibilityLevel goes into main.cf; empty means "3.6".
	CompatibilityLevel string
	// MainCF holds extra "name = value" lines for main.cf.
	MainCF []string
	// Timeout bounds the run when ctx has no earlier deadline; zero means 20s.
	Timeout time.Duration
}

// Result is what posttls-finger reported.
type Result struct {
	// Args are the arguments posttls-finger was run with.
	Args []string
	// Trust is the summary's first word: Anonymous, Untrusted, Trusted or Verified; empty
	// when no TLS session was established.
	Trust string
	// Summary is the "... TLS connection established to ..." line.
	Summary string
	// VerifyFailure is the text after "certificate verification failed for <addr>: ",
	// e.g. "num=62:hostname mismatch"; VerifyPurpose is "server", "CA" or "".
	VerifyFailure string
	VerifyPurpose string
	// Matched lists "Matched ..." lines and "matched peername: <name>" values.
	Matched []string
	// PeerName is the name from "matched peername: <name>".
	PeerName string
	// Warnings are the "warning: " lines, without that prefix and without the
	// "<namaddrport>: " prefix where present.
	Warnings []string
	// Lines is the whole output with the "posttls-finger: " prefix removed.
	Lines []string
	// ExitCode is posttls-finger's exit status.
	ExitCode int
	// Chain is the text after "Certificate chain" (with -C), up to the end of the last PEM.
	Chain string
}

// HasWarning reports whether a warning contains s.
func (r Result) HasWarning(s string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

var (
	reSummary = regexp.MustCompile(`^(Anonymous|Untrusted|Trusted|Verified) TLS connection (?:established|reused) to `)
	reVerify  = regexp.MustCompile(`^(?:(server|CA|client) )?certificate verification failed for (\S+): (.*)$`)
	reAddrPfx = regexp.MustCompile(`^\S+\[[^\]]*\](?::\d+)?: `)
)

// Parse reads posttls-finger output.
func Parse(out []byte) Result {
	var r Result
	if _, after, ok := strings.Cut(string(out), "---\nCertificate chain\n"); ok {
		if i := strings.LastIndex(after, "-----END CERTIFICATE-----\n"); i >= 0 {
			r.Chain = after[:i+len("-----END CERTIFICATE-----\n")]
		}
	}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			continue
		}
		l = strings.TrimPrefix(l, "posttls-finger: ")
		r.Lines = append(r.Lines, l)
		if w, ok := strings.CutPrefix(l, "warning: "); ok {
			r.Warnings = append(r.Warnings, reAddrPfx.ReplaceAllString(w, ""))
			continue
		}
		if m := reSummary.FindStringSubmatch(l); m != nil {
			r.Trust, r.Summary = m[1], l
			continue
		}
		if m := reVerify.FindStringSubmatch(l); m != nil {
			r.VerifyPurpose, r.VerifyFailure = m[1], m[3]
			continue
		}
		body := reAddrPfx.ReplaceAllString(l, "")
		if n, ok := strings.CutPrefix(body, "matched peername: "); ok {
			r.PeerName = n
			r.Matched = append(r.Matched, body)
		} else if strings.HasPrefix(body, "Matched ") {
			r.Matched = append(r.Matched, body)
		}
	}
	return r
}

// Run executes posttls-finger with a private configuration directory.
func Run(ctx context.Context, opt Options) (Result, error) {
	bin, err := Path()
	if err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "finger-")
	if err != nil {
		return Result{}, fmt.Errorf("finger: %w", err)
	}
	defer os.RemoveAll(dir)
	compat := opt.CompatibilityLevel
	if compat == "" {
		compat = "3.6"
	}
	var cf bytes.Buffer
	fmt.Fprintf(&cf, "compatibility_level = %s\n", compat)
	fmt.Fprintf(&cf, "smtp_tls_CAfile =\nsmtp_tls_CApath =\nsmtp_tls_loglevel = 1\n")
	fmt.Fprintf(&cf, "myhostname = client.finger.test\nmydomain = finger.test\ninet_protocols = ipv4\n")
	for _, l := range opt.MainCF {
		cf.WriteString(l + "\n")
	}
	mainCF := filepath.Join(dir, "main.cf")
	if err := os.WriteFile(mainCF, cf.Bytes(), 0o644); err != nil {
		return Result{}, fmt.Errorf("finger: %w", err)
	}
	// Postfix waits for a main.cf modified within the last second to settle: backdate it.
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(mainCF, old, old); err != nil {
		return Result{}, fmt.Errorf("finger: %w", err)
	}
	args := []string{"-c"}
	if opt.Level != "" {
		args = append(args, "-l", opt.Level)
	}
	logOpts := opt.LogOpts
	if logOpts == "" {
		logOpts = "summary,certmatch,untrusted"
	}
	args = append(args, "-L", logOpts)
	if opt.PrintChain {
		args = append(args, "-C")
	}
	if opt.Digest != "" {
		args = append(args, "-d", opt.Digest)
	}
	ca := opt.CAFile
	if len(opt.CAPEM) > 0 {
		ca = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(ca, opt.CAPEM, 0o644); err != nil {
			return Result{}, fmt.Errorf("finger: %w", err)
		}
	}
	if ca != "" {
		args = append(args, "-F", ca)
	}
	args = append(args, "-t", "5", "-T", "10", "--", opt.Destination)
	args = append(args, opt.Match...)
	timeout := opt.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+dir)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	r := Parse(out.Bytes())
	r.Args = args
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("finger: posttls-finger %s: %w", strings.Join(args, " "), ctx.Err())
	}
	var ee *exec.ExitError
	if runErr != nil && !errors.As(runErr, &ee) {
		return r, fmt.Errorf("finger: posttls-finger: %w", runErr)
	}
	return r, nil
}
