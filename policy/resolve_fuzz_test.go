package policy

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzParseNextHop checks that any next-hop string parses or fails cleanly, and that a
// parsed next hop is self-consistent (the key is the input minus an LMTP prefix).
func FuzzParseNextHop(f *testing.F) {
	for _, s := range []string{"example.com", "[mx.example.com]:587", "[ipv6:2001:db8::1]:25", "inet:lmtp:24",
		"unix:private/lmtp", "[x", "a:b:c", ":25", "[]", "host:99999", "bücher.example:25"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, lmtp bool) {
		c := SMTP
		if lmtp {
			c = LMTP
		}
		h, err := ParseNextHop(c, s, NextHopOptions{DefaultService: "smtp", DNS: true, MyHostname: "me.example"})
		if err != nil {
			return
		}
		if !strings.HasSuffix(s, h.Key) {
			t.Fatalf("key %q is not a suffix of %q", h.Key, s)
		}
		if !h.Unix && (h.Port <= 0 || h.Port > 65535) {
			t.Fatalf("port %d for %q", h.Port, s)
		}
		_ = PolicyKeys(h.Key, true)
	})
}

// FuzzResolve feeds arbitrary main.cf text, policy table text and destinations through the
// whole resolution: it must never panic, and an invalid policy always carries Postfix's
// deferral reason.
func FuzzResolve(f *testing.F) {
	f.Add("smtp_tls_security_level = may\n", "example.com secure match=nexthop:dot-nexthop\n", "user@example.com")
	f.Add("relayhost = [a]:587, [b]\nsmtp_tls_security_level = ${x?{y}:{z}}\n", ".example.com verify\n  tafile=/nonexistent\n", "user@a.b.example.com")
	f.Add("compatibility_level = 3.6\nsmtp_tls_policy_maps = inline:{ {x = y} }\n", "", "[mx.example.com]:25")
	f.Add("smtp_dns_support_level = dnssec\n", "example.com dane-only\n# c\n  protocols=>=TLSv1.2 {match = a}\n", "example.com")
	f.Add("smtp_tls_per_site = inline:{ {example.com = MUST} }\n", "", "example.com")
	f.Add("", "", "us er@exa mple.com")
	f.Add("", "", "\"a b\"@[IPv6:2001:db8::1]")
	f.Fuzz(func(t *testing.T, mainCF, table, dest string) {
		if len(mainCF) > 4096 || len(table) > 4096 || len(dest) > 512 {
			return
		}
		// Keep table paths under our control: the table text is served as inline:{...}.
		main := mainCF
		if table != "" {
			main += "\nsmtp_tls_policy_maps = static:{" + strings.ReplaceAll(strings.ReplaceAll(table, "\n", " "), "}", "") + "}\n"
		}
		s, err := ParseSettings(V(3, 7, 11), bytes.NewBufferString(main), nil)
		if err != nil {
			return
		}
		// Refuse configurations that would read files or sockets.
		for _, name := range []string{"smtp_tls_policy_maps", "smtp_tls_per_site", "transport_maps", "mydestination",
			"relay_domains", "virtual_alias_domains", "virtual_mailbox_domains", "smtp_tls_trust_anchor_file"} {
			p, _ := s.Param(name)
			v := strings.ReplaceAll(p.Value, "static:{", "")
			if strings.Contains(v, "/") || strings.Contains(v, "socketmap") {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2e9)
		defer cancel()
		r, err := s.Resolve(ctx, dest)
		if err != nil {
			return
		}
		if strings.Contains(dest, "@") && !strings.Contains(dest, "\"") && strings.ContainsAny(strings.TrimSpace(dest), " \t\r\n") {
			t.Fatalf("destination %q with a space accepted", dest)
		}
		for _, h := range r.Hops {
			if h.Policy.Invalid && (h.Policy.DSN == "" || h.Policy.Reason == "") {
				t.Fatalf("invalid policy without a reason: %+v", h.Policy)
			}
		}
	})
}
