package benchworld

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/finger"
	"github.com/postfixtls/postfixtls/internal/testkit/need"
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
	need.Missing(b, "%v", err)
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
		// any number of destinations for the batch benchmark, all on the same DANE MX
		"*.batch.example.test. 300 IN MX 10 mx.example.test.",
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
	write("tls_policy", fmt.Sprintf("example.test dane\n.batch.example.test dane\n%s secure match=mx.example.test\n", w.bracketed))
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
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as the README's go install line builds it
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build cmd/postfixtls: %v\n%s", err, msg)
	}
	return out
}

// bareBinary is internal/cmd/bareclient, built now.
func bareBinary(b *testing.B) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "bareclient")
	cmd := exec.Command("go", "build", "-o", out, "github.com/postfixtls/postfixtls/internal/cmd/bareclient")
	if os.Getenv("BENCH_BARE_STATIC") == "1" {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build internal/cmd/bareclient: %v\n%s", err, msg)
	}
	return out
}

// runOnce runs one process that must exit 0.
func runOnce(b *testing.B, env []string, name string, args ...string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
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
	b.Run("bare-go/mx-dane", func(b *testing.B) {
		// the same lookups (MX, A, TLSA through unbound), STARTTLS and DANE-EE handshake,
		// with nothing else: the yardstick of issue 15 (check <= 1.5x)
		runProcess(b, env, 0, bareBinary(b), "-resolver", w.resolver, "-port", strconv.Itoa(w.port), "example.test")
	})
	b.Run("pair/check-vs-bare-go", func(b *testing.B) {
		// the two in turn, so that a drift of the machine's speed hits both: the ratio of
		// the medians of the per-process wall times
		bare := bareBinary(b)
		checkArgs := append(append([]string{"check", "-version", "3.7.11"}, common...), "user@example.test")
		var tc, tb []time.Duration
		for b.Loop() {
			t0 := time.Now()
			runOnce(b, env, check, checkArgs...)
			t1 := time.Now()
			runOnce(b, env, bare, "-resolver", w.resolver, "-port", strconv.Itoa(w.port), "example.test")
			tc, tb = append(tc, t1.Sub(t0)), append(tb, time.Since(t1))
		}
		mc, mb := median(tc), median(tb)
		b.ReportMetric(float64(mc.Microseconds())/1000, "check-ms")
		b.ReportMetric(float64(mb.Microseconds())/1000, "bare-ms")
		b.ReportMetric(float64(mc)/float64(mb), "check/bare")
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
	opt := smtpclient.CheckOptions{Resolver: &dnssec.Client{Servers: []string{w.resolver}}, TrustCache: &smtpclient.TrustCache{}}
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

// BenchmarkBatchMemory runs one "postfixtls check -f FILE -json" process over N distinct
// destinations (d000001.batch.example.test ...: MX, A and TLSA lookups through unbound and a
// DANE check each) and reports its peak resident memory: it must not grow with N (issue 15:
// memory per destination bounded in a 100,000-destination batch). Run it with -benchtime 1x.
func BenchmarkBatchMemory(b *testing.B) {
	w := newWorld(b)
	check := checkBinary(b)
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("destinations=%d", n), func(b *testing.B) {
			list := filepath.Join(b.TempDir(), "destinations")
			var sb strings.Builder
			for i := range n {
				fmt.Fprintf(&sb, "user@d%06d.batch.example.test\n", i)
			}
			if err := os.WriteFile(list, []byte(sb.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				cmd := exec.Command(check, "check", "-c", w.dir, "-resolver", w.resolver, "-version", "3.7.11", "-json", "-j", "16", "-f", list)
				var out countingWriter
				cmd.Stdout = &out
				var stderr strings.Builder
				cmd.Stderr = &stderr
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("check of %d destinations: %v\n%s", n, err, stderr.String())
				}
				elapsed := time.Since(start)
				if out.lines != n || out.deliver != n {
					b.Fatalf("%d JSON lines, %d of them deliver, for %d destinations\n%s", out.lines, out.deliver, n, stderr.String())
				}
				ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				if !ok {
					b.Fatal("no rusage")
				}
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-MiB")
				b.ReportMetric(float64(ru.Maxrss)*1024/float64(n), "peak-bytes/destination")
				b.ReportMetric(float64(n)/elapsed.Seconds(), "checks/s")
			}
		})
	}
}

// countingWriter counts the JSON lines written to it and those whose outcome is deliver.
type countingWriter struct {
	lines, deliver int
	part           []byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.part = append(c.part, p...)
	for {
		i := bytes.IndexByte(c.part, '\n')
		if i < 0 {
			break
		}
		c.lines++
		if bytes.Contains(c.part[:i], []byte(`"outcome":"deliver"`)) {
			c.deliver++
		}
		c.part = c.part[i+1:]
	}
	return len(p), nil
}
