// Command bareclient is the yardstick of "postfixtls check" as a process: the least a Go
// program does to answer the same question of the same server. It asks the resolver for the
// domain's MX, the exchange's A records and its TLSA records (DNSSEC OK, one UDP socket per
// question, as a plain client would), connects, reads the greeting, sends EHLO and
// STARTTLS, completes a TLS handshake whose leaf must match a "3 1 1" TLSA record, sends
// EHLO again and QUIT, and exits 0 when the record matched (1 otherwise). No configuration,
// no policy, no verdict: internal/cmd/benchworld runs it beside the check command.
//
//	bareclient -resolver 127.0.0.1:5353 -port 25 example.test
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func main() {
	resolver := flag.String("resolver", "127.0.0.1:53", "recursive resolver host:port")
	port := flag.Int("port", 25, "SMTP port")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: bareclient [-resolver host:port] [-port n] domain")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *resolver, *port, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "bareclient:", err)
		os.Exit(1)
	}
}

func ask(ctx context.Context, resolver, name string, qtype uint16) ([]dns.RR, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(1232, true)
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, q, resolver)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData {
		return nil, fmt.Errorf("%s %s: rcode %s, AD %v", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode], r.AuthenticatedData)
	}
	return r.Answer, nil
}

func run(ctx context.Context, resolver string, port int, domain string) error {
	ans, err := ask(ctx, resolver, domain, dns.TypeMX)
	if err != nil {
		return err
	}
	var mx *dns.MX
	for _, rr := range ans {
		if m, ok := rr.(*dns.MX); ok && (mx == nil || m.Preference < mx.Preference) {
			mx = m
		}
	}
	if mx == nil {
		return errors.New("no MX")
	}
	host := strings.TrimSuffix(mx.Mx, ".")
	ans, err = ask(ctx, resolver, host, dns.TypeA)
	if err != nil {
		return err
	}
	var addr net.IP
	for _, rr := range ans {
		if a, ok := rr.(*dns.A); ok {
			addr = a.A
			break
		}
	}
	if addr == nil {
		return errors.New("no A record")
	}
	ans, err = ask(ctx, resolver, fmt.Sprintf("_%d._tcp.%s", port, host), dns.TypeTLSA)
	if err != nil {
		return err
	}
	var pins [][]byte
	for _, rr := range ans {
		if t, ok := rr.(*dns.TLSA); ok && t.Usage == 3 && t.Selector == 1 && t.MatchingType == 1 {
			if b, err := hex.DecodeString(t.Certificate); err == nil {
				pins = append(pins, b)
			}
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	br := bufio.NewReader(conn)
	reply := func() (int, error) {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return 0, err
			}
			if len(line) < 4 {
				return 0, fmt.Errorf("short reply %q", line)
			}
			if line[3] != '-' {
				return strconv.Atoi(line[:3])
			}
		}
	}
	cmd := func(w interface{ Write([]byte) (int, error) }, s string, want int) error {
		if _, err := fmt.Fprintf(w, "%s\r\n", s); err != nil {
			return err
		}
		code, err := reply()
		if err == nil && code != want {
			err = fmt.Errorf("%s: %d", s, code)
		}
		return err
	}
	if code, err := reply(); err != nil || code != 220 {
		return fmt.Errorf("greeting: %d %v", code, err)
	}
	if err := cmd(conn, "EHLO client.test", 250); err != nil {
		return err
	}
	if err := cmd(conn, "STARTTLS", 220); err != nil {
		return err
	}
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, // DANE-EE: the record, not a CA
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate")
			}
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
			for _, p := range pins {
				if bytes.Equal(p, sum[:]) {
					return nil
				}
			}
			return errors.New("no TLSA record matches")
		}})
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	br = bufio.NewReader(tc)
	if err := cmd(tc, "EHLO client.test", 250); err != nil {
		return err
	}
	return cmd(tc, "QUIT", 221)
}
