package policy

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseNextHop(t *testing.T) {
	smtp := NextHopOptions{DefaultService: "smtp", DNS: true, MyHostname: "client.example"}
	lmtp := NextHopOptions{DefaultService: "24", DNS: true, MyHostname: "client.example"}
	cases := []struct {
		name   string
		client Client
		in     string
		opt    NextHopOptions
		want   NextHop
	}{
		{"§4.4 bare domain: MX lookup, port from smtp_tcp_port", SMTP, "example.com", smtp,
			NextHop{Nexthop: "example.com", Key: "example.com", Domain: "example.com", Service: "smtp", Port: 25, MX: true, Client: SMTP}},
		{"§4.4 domain:port still gets MX lookups (SMTP)", SMTP, "example.com:587", smtp,
			NextHop{Nexthop: "example.com:587", Key: "example.com:587", Domain: "example.com", Service: "587", Port: 587, MX: true, Client: SMTP}},
		{"§4.4 [host] suppresses MX lookups", SMTP, "[mail.example.com]", smtp,
			NextHop{Nexthop: "[mail.example.com]", Key: "[mail.example.com]", Domain: "mail.example.com", Service: "smtp", Port: 25, Client: SMTP}},
		{"§2.1 [host]:587 key keeps brackets and port", SMTP, "[mail.example.com]:587", smtp,
			NextHop{Nexthop: "[mail.example.com]:587", Key: "[mail.example.com]:587", Domain: "mail.example.com", Service: "587", Port: 587, Client: SMTP}},
		{"§2.1 [host]:submission named service", SMTP, "[mail.example.com]:submission", smtp,
			NextHop{Nexthop: "[mail.example.com]:submission", Key: "[mail.example.com]:submission", Domain: "mail.example.com", Service: "submission", Port: 587, Client: SMTP}},
		{"§4.4 [IP] nexthop domain is the address", SMTP, "[192.0.2.1]", smtp,
			NextHop{Nexthop: "[192.0.2.1]", Key: "[192.0.2.1]", Domain: "192.0.2.1", Service: "smtp", Port: 25, Client: SMTP}},
		{"host_port [ipv6:addr]:port", SMTP, "[ipv6:2001:db8::1]:2525", smtp,
			NextHop{Nexthop: "[ipv6:2001:db8::1]:2525", Key: "[ipv6:2001:db8::1]:2525", Domain: "2001:db8::1", Service: "2525", Port: 2525, Client: SMTP}},
		{"§2.1 LMTP inet:host:24 key drops inet:", LMTP, "inet:lmtp.example:24", lmtp,
			NextHop{Nexthop: "inet:lmtp.example:24", Key: "lmtp.example:24", Domain: "lmtp.example", Service: "24", Port: 24, Client: LMTP}},
		{"§2.1 LMTP inet:host has key host (parent recursion applies)", LMTP, "inet:lmtp.example", lmtp,
			NextHop{Nexthop: "inet:lmtp.example", Key: "lmtp.example", Domain: "lmtp.example", Service: "24", Port: 24, Client: LMTP}},
		{"§2.1 LMTP unix: key is the path, names are $myhostname", LMTP, "unix:private/dovecot-lmtp", lmtp,
			NextHop{Nexthop: "unix:private/dovecot-lmtp", Key: "private/dovecot-lmtp", Domain: "client.example", Unix: true, Path: "private/dovecot-lmtp", Client: LMTP}},
		{"§2.1 LMTP never looks up MX", LMTP, "lmtp.example:24", lmtp,
			NextHop{Nexthop: "lmtp.example:24", Key: "lmtp.example:24", Domain: "lmtp.example", Service: "24", Port: 24, Client: LMTP}},
		{"SMTP has no unix:/inet: prefixes: unix:25 is host unix port 25", SMTP, "unix:25", smtp,
			NextHop{Nexthop: "unix:25", Key: "unix:25", Domain: "unix", Service: "25", Port: 25, MX: true, Client: SMTP}},
		{"DNS disabled: no MX lookups", SMTP, "example.com", NextHopOptions{DefaultService: "smtp"},
			NextHop{Nexthop: "example.com", Key: "example.com", Domain: "example.com", Service: "smtp", Port: 25, Client: SMTP}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseNextHop(c.client, c.in, c.opt)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestParseNextHopErrors(t *testing.T) {
	opt := NextHopOptions{DefaultService: "smtp", DNS: true}
	cases := []struct{ name, in, want string }{
		{"host_port missing ]", "[mx.example.com", `invalid next-hop destination: missing "]" in server description: [mx.example.com`},
		{"host_port garbage after ]", "[mx.example.com]x", `invalid next-hop destination: garbage after "]" in server description: [mx.example.com]x`},
		{"smtp_parse_destination port range", "[mx.example.com]:99999", "invalid next-hop destination: bad network port: 99999 for destination: [mx.example.com]:99999"},
		{"host_port garbage after numerical service", "mx.example.com:25x", "invalid next-hop destination: garbage after numerical service in server description: mx.example.com:25x"},
		{"host_port invalid host", "mx..example.com", "invalid next-hop destination: valid hostname or network address required in server description: mx..example.com"},
		{"host_port missing host", ":25", "invalid next-hop destination: missing host information in server description: :25"},
		{"unknown service", "[mx.example.com]:nosuchservice", "invalid next-hop destination: unknown service: nosuchservice/tcp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseNextHop(SMTP, c.in, opt)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrNextHop))
			require.Equal(t, c.want, err.Error())
		})
	}
}

func TestPolicyKeys(t *testing.T) {
	cases := []struct {
		name string
		key  string
		want []string
	}{
		{"§2.2 bare domain gets parent-domain recursion", "a.b.example.com", []string{"a.b.example.com", ".b.example.com", ".example.com", ".com"}},
		{"§2.2 bracketed key: one lookup", "[mx.example.com]", []string{"[mx.example.com]"}},
		{"§2.2 key with port: one lookup", "example.com:587", []string{"example.com:587"}},
		{"§2.2 trailing dot: one lookup", "example.com.", []string{"example.com."}},
		{"§2.2 numeric (IP-like) key: one lookup", "192.0.2.1", []string{"192.0.2.1"}},
		{"§2.2 pathname: one lookup", "private/lmtp", []string{"private/lmtp"}},
		{"§2.2 single label", "localhost", []string{"localhost"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, PolicyKeys(c.key, false))
		})
	}
	require.Equal(t, []string{"bücher.example", ".example"}, PolicyKeys("bücher.example", true), "§2.2 UTF-8 labels allowed with smtputf8_enable")
	require.Equal(t, []string{"bücher.example"}, PolicyKeys("bücher.example", false))
}

func TestSplitNextHopList(t *testing.T) {
	require.Equal(t, []string{"[a.example]:587", "[b.example]:587"}, SplitNextHopList(" [a.example]:587,\t[b.example]:587 ,"))
}
