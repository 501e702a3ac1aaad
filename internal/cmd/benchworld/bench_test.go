package benchworld

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/finger"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// world is one loopback STARTTLS server for mx.example.test (127.0.1.20), the signed zone
// with its MX, A and TLSA records behind unbound, and a Postfix configuration directory.
type world struct {
	dir, resolver, ca string
	port              int
	bracketed         string // "[127.0.1.20]:port"
}

const mainCF = `compatibility_level = 3.7
smtp_dns_support_level = dnssec
smtp_tls_security_level = may
smtp_tls_CAfile = {{dir}}/rootca.pem
smtp_tls_policy_maps = texthash:{{dir}}/tls_policy
smtp_tcp_port = {{port}}
myhostname = client.test
inet_protocols = ipv4
`

func skipWithout(b *testing.B, err error) {
	b.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		b.Fatal(err)
	}
	b.Skip(err)
}

func newWorld(b *testing.B) *world {
	b.Helper()
	skipWithout(b, dnskit.Missing())
	h := pki.MustHierarchy(b)
	mx := h.Leaf(b, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.1.20:0", Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	w := &world{dir: b.TempDir(), port: srv.Port()}
	w.bracketed = fmt.Sprintf("[127.0.1.20]:%d", w.port)
	sum := sha256.Sum256(mx.SPKI())
	dns := dnskit.Start(b, dnskit.Config{Records: []string{
		"example.test. 300 IN MX 10 mx.example.test.",
		"mx.example.test. 300 IN A 127.0.1.20",
		fmt.Sprintf("_%d._tcp.mx.example.test. 300 IN TLSA 3 1 1 %s", w.port, hex.EncodeToString(sum[:])),
	}})
	w.resolver = dns.Resolver
	w.ca = filepath.Join(w.dir, "rootca.pem")
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(w.dir, name), []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("rootca.pem", string(h.Root.PEM()))
	// The bracketed next hop gets exactly what posttls-finger is asked: secure, CA, one name.
	write("tls_policy", fmt.Sprintf("example.test dane\n%s secure match=mx.example.test\n", w.bracketed))
	write("main.cf", strings.NewReplacer("{{dir}}", w.dir, "{{port}}", strconv.Itoa(w.port)).Replace(mainCF))
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(w.dir, "main.cf"), old, old); err != nil {
		b.Fatal(err)
	}
	return w
}

// checkBinary is the postfixtls command (run as "postfixtls check"): $BENCH_CHECK_BIN, or
// built now.
func checkBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("BENCH_CHECK_BIN"); p != "" {
		return p
	}
	out := filepath.Join(b.TempDir(), "postfixtls")
	cmd := exec.Command("go", "build", "-o", out, "github.com/postfixtls/postfixtls/cmd/postfixtls")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build cmd/postfixtls: %v\n%s", err, msg)
	}
	return out
}

// runProcess runs one process b.N times; want is the exit status it must end with.
func runProcess(b *testing.B, env []string, want int, name string, args ...string) {
	b.Helper()
	for b.Loop() {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				b.Fatalf("%s: %v", name, err)
			}
			code = ee.ExitCode()
		}
		if code != want {
			b.Fatalf("%s %s: exit %d, want %d\n%s", name, strings.Join(args, " "), code, want, out)
		}
	}
}

// BenchmarkCLIvsFinger measures one check process against one posttls-finger process on the
// same server (ns/op is the wall time of one process run).
func BenchmarkCLIvsFinger(b *testing.B) {
	fingerBin, err := finger.Path()
	skipWithout(b, err)
	w := newWorld(b)
	check := checkBinary(b)
	env := os.Environ()
	common := []string{"-c", w.dir, "-resolver", w.resolver, "-json"}

	b.Run("check/bracketed", func(b *testing.B) {
		runProcess(b, env, 0, check, append(append([]string{"check", "-version", "3.7.11"}, common...), w.bracketed)...)
	})
	b.Run("check/bracketed-detect-version", func(b *testing.B) {
		runProcess(b, env, 0, check, append(append([]string{"check"}, common...), w.bracketed)...)
	})
	b.Run("check/mx-dane", func(b *testing.B) {
		runProcess(b, env, 0, check, append(append([]string{"check", "-version", "3.7.11"}, common...), "user@example.test")...)
	})
	b.Run("posttls-finger/bracketed", func(b *testing.B) {
		cfg := filepath.Join(w.dir, "finger")
		if err := os.MkdirAll(cfg, 0o755); err != nil {
			b.Fatal(err)
		}
		cf := filepath.Join(cfg, "main.cf")
		if err := os.WriteFile(cf, []byte("compatibility_level = 3.7\nsmtp_tls_loglevel = 1\nmyhostname = client.test\ninet_protocols = ipv4\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		old := time.Now().Add(-time.Minute)
		if err := os.Chtimes(cf, old, old); err != nil {
			b.Fatal(err)
		}
		fenv := append(os.Environ(), "MAIL_CONFIG="+cfg)
		runProcess(b, fenv, 0, fingerBin, "-c", "-l", "secure", "-L", "summary", "-F", w.ca, "-t", "5", "-T", "10",
			"--", w.bracketed, "mx.example.test")
	})
}

// BenchmarkCheckParallel measures smtpclient.Check from every core: MX, A and TLSA lookups
// through unbound, one STARTTLS session and a DANE verification per check.
func BenchmarkCheckParallel(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	s, err := policy.Load(ctx, policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: w.dir})
	if err != nil {
		b.Fatal(err)
	}
	opt := smtpclient.CheckOptions{Resolver: &dnssec.Client{Servers: []string{w.resolver}}}
	for _, c := range []struct{ name, dest string }{{"mx-dane", "user@example.test"}, {"bracketed", w.bracketed}} {
		dest := c.dest
		b.Run(c.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					v, err := smtpclient.Check(ctx, s, dest, opt)
					if err != nil {
						b.Error(err)
						return
					}
					if v.Outcome != "deliver" {
						b.Errorf("%s: %s %s %s", dest, v.Outcome, v.DSN, v.Reason)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}
