package conformance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MTASTS is the MTA-STS policy (RFC 8461) a case publishes for its recipient domain D:
// the signed zone gets `_mta-sts.D TXT "v=STSv1; id=..."` and `mta-sts.D A` MTASTSAddr,
// where a loopback HTTPS server (certificate mta-sts-example from the world's CA) serves
// https://mta-sts.D/.well-known/mta-sts.txt. A real postfix-mta-sts-resolver
// (mta-sts-daemon) fetches it through the world's unbound, trusting the world's root CA
// (SSL_CERT_FILE), and answers smtp_tls_policy_maps as the socketmap
// socketmap:inet:127.0.0.1:PORT:NAME (PORT picked when the world starts).
type MTASTS struct {
	// Mode is the policy's mode: enforce, testing or none.
	Mode string `json:"mode"`
	// MX are the policy's mx: patterns ("mx.example.test", "*.example.test").
	MX []string `json:"mx,omitempty"`
	// MaxAge is max_age in seconds; 0 means 86400.
	MaxAge int `json:"max_age,omitempty"`
	// StrictTesting queries the resolver's zone "strict" (strict_testing: true: a testing
	// policy is enforced) instead of its default zone (map name "postfix").
	StrictTesting bool `json:"strict_testing,omitempty"`
	// HTTPStatus, when non-zero, is the status the HTTPS server answers instead of the
	// policy (the fetch fails: the resolver has no policy).
	HTTPStatus int `json:"http_status,omitempty"`
	// PolicyFirst puts the case's texthash table before the socketmap in smtp_tls_policy_maps
	// (without it the socketmap is the only table when the case has no Policy lines, else
	// it comes second).
	PolicyFirst bool `json:"policy_first,omitempty"`
}

// MTASTSAddr is the address of mta-sts.<domain> in the world (port 443, as the policy URL
// has no port).
const MTASTSAddr = "127.0.1.250"

// mtastsDomain is the recipient's domain, the one whose policy the case publishes.
func (c Case) mtastsDomain() string {
	_, d, _ := strings.Cut(c.Rcpt, "@")
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

// mtastsZone are the DNS records of the case's MTA-STS policy.
func (c Case) mtastsZone() []string {
	d := c.mtastsDomain()
	return []string{
		fmt.Sprintf(`_mta-sts.%s. IN TXT "v=STSv1; id=%s"`, d, "20261203T000000"),
		fmt.Sprintf("mta-sts.%s. IN A %s", d, MTASTSAddr),
	}
}

// policyText is the policy file the HTTPS server publishes.
func (m MTASTS) policyText() string {
	age := m.MaxAge
	if age == 0 {
		age = 86400
	}
	var b strings.Builder
	b.WriteString("version: STSv1\r\nmode: " + m.Mode + "\r\n")
	for _, mx := range m.MX {
		b.WriteString("mx: " + mx + "\r\n")
	}
	b.WriteString("max_age: " + strconv.Itoa(age) + "\r\n")
	return b.String()
}

// mtastsWorld is what startMTASTS started: stop ends both servers; the daemon's process is
// in procs (RunWorld kills it by its PID).
type mtastsWorld struct {
	table string // the socketmap table, "socketmap:inet:127.0.0.1:PORT:NAME"
	log   string // the daemon's log file
	http  *http.Server
}

func (w *mtastsWorld) stop() {
	if w.http != nil {
		_ = w.http.Close()
	}
}

// mtastsDaemon is the resolver's program (Debian package postfix-mta-sts-resolver).
const mtastsDaemon = "mta-sts-daemon"

// startMTASTS starts the HTTPS server that publishes c.MTASTS and a private mta-sts-daemon
// on a free loopback port, and waits until the daemon accepts connections.
func startMTASTS(ctx context.Context, c Case, dir, certs string) (*mtastsWorld, *exec.Cmd, error) {
	m := c.MTASTS
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrWorld, err)
	}
	bin, err := exec.LookPath(mtastsDaemon)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s not found: install the Debian package postfix-mta-sts-resolver", ErrWorld, mtastsDaemon)
	}
	kp, err := tls.LoadX509KeyPair(filepath.Join(certs, "mta-sts-example.chain.pem"), filepath.Join(certs, "mta-sts-example.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: MTA-STS server certificate: %v", ErrWorld, err)
	}
	ln, err := net.Listen("tcp", MTASTSAddr+":443")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: MTA-STS HTTPS server: %v", ErrWorld, err)
	}
	body := m.policyText()
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/mta-sts.txt", func(w http.ResponseWriter, r *http.Request) {
		if m.HTTPStatus != 0 {
			http.Error(w, "no policy here", m.HTTPStatus)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(body))
	})
	w := &mtastsWorld{log: filepath.Join(dir, "mta-sts-daemon.log"),
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}}}
	go func() { _ = w.http.ServeTLS(ln, "", "") }()

	port, err := freePort()
	if err != nil {
		w.stop()
		return nil, nil, fmt.Errorf("%w: MTA-STS resolver port: %v", ErrWorld, err)
	}
	// reuse_port must stay true: responder.py builds its listening options only then.
	conf := fmt.Sprintf(`host: 127.0.0.1
port: %d
reuse_port: true
shutdown_timeout: 1
cache:
  type: internal
  options:
    cache_size: 100
default_zone:
  strict_testing: false
  timeout: 4
zones:
  strict:
    strict_testing: true
    timeout: 4
`, port)
	cf := filepath.Join(dir, "mta-sts-daemon.yml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		w.stop()
		return nil, nil, fmt.Errorf("%w: %v", ErrWorld, err)
	}
	cmd := exec.Command(bin, "-c", cf, "-v", "debug", "-l", w.log)
	cmd.Dir = dir
	if out, err := os.Create(filepath.Join(dir, "mta-sts-daemon.out")); err == nil {
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
	}
	// Python's ssl default context (aiohttp) loads OpenSSL's default paths, which honour
	// SSL_CERT_FILE: the daemon trusts the world's root CA and nothing else.
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+filepath.Join(certs, "rootca.pem"), "SSL_CERT_DIR="+dir)
	if err := cmd.Start(); err != nil {
		w.stop()
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrWorld, mtastsDaemon, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitListen(ctx, addr, 15*time.Second); err != nil {
		w.stop()
		logText, _ := os.ReadFile(w.log)
		return nil, cmd, fmt.Errorf("%w: %s does not listen on %s: %v\n%s", ErrWorld, mtastsDaemon, addr, err, logText)
	}
	name := "postfix"
	if m.StrictTesting {
		name = "strict"
	}
	w.table = "socketmap:inet:" + addr + ":" + name
	return w, cmd, nil
}

// policyMaps is the smtp_tls_policy_maps setting of an MTA-STS case.
func (c Case) policyMaps(socketmap string) string {
	const texthash = "texthash:/etc/postfix/tls_policy"
	switch {
	case c.MTASTS.PolicyFirst:
		return texthash + ", " + socketmap
	case len(c.Policy) == 0:
		return socketmap
	default:
		return socketmap + ", " + texthash
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListen polls addr until it accepts a TCP connection.
func waitListen(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := errors.New("not tried")
	for time.Now().Before(deadline) {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return last
}
