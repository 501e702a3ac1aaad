package policy

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/tables"

	"github.com/stretchr/testify/require"
)

const testTA = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWi6nhBWZ7sX+WZpIZCXqtaRJ3nI2\nvTkBXEQXqj0pNvdz+qaGBfMyXWg4O9QbVVM4ln+4A0MvCQjzWGPHp4lrzg==\n-----END PUBLIC KEY-----\n"

// countFS counts how often each file is opened or read.
type countFS struct {
	fs.FS
	mu sync.Mutex
	n  map[string]int
}

func (c *countFS) count(name string) {
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
}
func (c *countFS) Open(name string) (fs.File, error) { c.count(name); return c.FS.Open(name) }
func (c *countFS) opens(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[strings.TrimPrefix(name, "/")]
}

// worldCounted is world with the files read through a countFS.
func worldCounted(t *testing.T, mainCF string, files map[string]string) (*Settings, string, *countFS) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	mainCF = strings.ReplaceAll(mainCF, "{{dir}}", dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
	cf := &countFS{FS: os.DirFS("/"), n: map[string]int{}}
	s, err := Load(context.Background(), LoadOptions{Version: V(3, 9, 1), ConfigDir: dir, MyHostname: "client.example.net",
		Tables: tables.Options{FS: cf}})
	require.NoError(t, err)
	return s, dir, cf
}

func TestWith(t *testing.T) {
	ctx := context.Background()
	maps := "smtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"
	cases := []struct {
		name  string
		main  string
		files map[string]string
		dest  string
		fixes func(dir string) []finding.Fix
		check func(t *testing.T, before, after Policy, dir string)
	}{
		{"replacing the deciding row changes match and keeps the other attributes", maps,
			map[string]string{"tls_policy": "other.example encrypt\nfastmail.fm secure ciphers=high\n"}, "user@fastmail.fm",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "fastmail.fm",
					Value: "secure match=.messagingengine.com ciphers=high", Old: "secure ciphers=high"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, []string{"nexthop", "dot-nexthop"}, before.Match)
				require.Equal(t, 2, before.Source.Line)
				require.False(t, after.Invalid)
				require.Equal(t, Secure, after.Level)
				require.Equal(t, []string{".messagingengine.com"}, after.Match)
				require.Equal(t, MatchFromEntry, after.MatchFrom)
				require.Equal(t, "high", after.Ciphers)
				require.Equal(t, Source{Kind: FromPolicyTable, Table: "texthash:" + dir + "/tls_policy", Key: "fastmail.fm",
					File: dir + "/tls_policy", Raw: "fastmail.fm secure match=.messagingengine.com ciphers=high", Note: FixNote}, after.Source)
			}},
		{"a regexp rule whose pattern matches only the next hop is rewritten in place",
			"smtp_tls_policy_maps = regexp:{{dir}}/tls_policy\n",
			map[string]string{"tls_policy": "/^example\\.test$/i secure match=nomatch.test ciphers=high\n/\\.test$/ encrypt\n"}, "user@example.test",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "regexp:" + dir + "/tls_policy", Key: `/^example\.test$/i`,
					Value: "secure match=mx.example.test ciphers=high"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, []string{"nomatch.test"}, before.Match)
				require.Equal(t, []string{"mx.example.test"}, after.Match)
				require.Equal(t, "high", after.Ciphers)
				require.Equal(t, `/^example\.test$/i secure match=mx.example.test ciphers=high`, after.Source.Raw)
				require.Equal(t, FixNote, after.Source.Note)
			}},
		{"a case-sensitive rewritten rule does not answer the next hop in another case",
			"smtp_tls_policy_maps = regexp:{{dir}}/tls_policy\n",
			map[string]string{"tls_policy": "/^example\\.test$/i secure match=nomatch.test\n/\\.test$/ encrypt\n"}, "user@EXAMPLE.test",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "regexp:" + dir + "/tls_policy", Key: `/^example\.test$/i`, Value: "verify"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Encrypt, before.Level)
				require.Equal(t, Encrypt, after.Level)
			}},
		{"a new .example.com row covers sub.example.com through parent-domain recursion", maps,
			map[string]string{"tls_policy": "example.com secure\n"}, "user@sub.example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: ".example.com", Value: "secure"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, FromGlobal, before.Source.Kind)
				require.Equal(t, Secure, after.Level)
				require.Equal(t, ".example.com", after.Source.Key)
			}},
		{"row keys are folded as the fixed-string table folds them", maps,
			map[string]string{"tls_policy": "example.com encrypt\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "EXAMPLE.com", Value: "verify"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Encrypt, before.Level)
				require.Equal(t, Verify, after.Level)
			}},
		{"a row added to a later table is shadowed by an earlier table with the same key",
			"smtp_tls_policy_maps = texthash:{{dir}}/first, texthash:{{dir}}/second\n",
			map[string]string{"first": "example.com encrypt\n", "second": "other.example none\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/second", Key: "example.com", Value: "secure"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Encrypt, after.Level)
				require.Equal(t, "texthash:"+dir+"/first", after.Source.Table)
				require.Empty(t, after.Source.Note)
			}},
		{"a lookup error of an earlier table stops the search before the edited row",
			"smtp_tls_policy_maps = hash:{{dir}}/broken, texthash:{{dir}}/tls_policy\n",
			map[string]string{"broken": "x y\n", "tls_policy": "other.example none\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "example.com", Value: "secure"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.True(t, before.Invalid)
				require.True(t, after.Invalid)
				require.Contains(t, strings.Join(after.Warnings, "\n"), "policy table lookup error")
			}},
		{"Delete removes the row: the global level applies", maps,
			map[string]string{"tls_policy": "example.com secure\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "example.com", Delete: true}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Secure, before.Level)
				require.Equal(t, May, after.Level)
				require.Equal(t, FromGlobal, after.Source.Kind)
			}},
		{"a later edit of the same key wins", maps,
			map[string]string{"tls_policy": "example.com secure\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				tb := "texthash:" + dir + "/tls_policy"
				return []finding.Fix{{Kind: finding.FixTableRow, Table: tb, Key: "example.com", Delete: true},
					{Kind: finding.FixTableRow, Table: tb, Key: "example.com", Value: "encrypt"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Encrypt, after.Level)
			}},
		{"a main.cf edit of smtp_tls_CAfile", maps,
			map[string]string{"tls_policy": "example.com verify\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: "/etc/ssl/other.pem"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, "/etc/ssl/certs/ca-certificates.crt", before.CAFile)
				require.Equal(t, "/etc/ssl/other.pem", after.CAFile)
				require.Equal(t, Verify, after.Level)
			}},
		{"deleting a main.cf parameter restores its built-in default", maps,
			map[string]string{"tls_policy": "other.example none\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Delete: true}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, May, before.Level)
				require.Equal(t, None, after.Level, "compatibility_level 3.6: the default level is empty, smtp_use_tls = no")
			}},
		{"a row without any policy maps goes into a new table that is looked up", "",
			nil, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixTableRow, Key: "example.com", Value: "encrypt"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, FromGlobal, before.Source.Kind)
				require.Equal(t, Encrypt, after.Level)
				require.Equal(t, Source{Kind: FromPolicyTable, Key: "example.com", Raw: "example.com encrypt", Note: FixNote}, after.Source)
			}},
		{"a row for a table that is not in the list is appended after the configured tables", maps,
			map[string]string{"tls_policy": "example.com encrypt\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{
					{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/new", Key: "example.com", Value: "secure"},
					{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/new", Key: "example.net", Value: "secure"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, Encrypt, after.Level, "the configured table comes first")
			}},
		{"a tafile= row whose file exists only as FixFile content", maps,
			map[string]string{"tls_policy": "example.com secure\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				ta := filepath.Join(dir, "ta", "example.pem")
				return []finding.Fix{{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "example.com",
					Value: "secure tafile=" + ta, Requires: []finding.Fix{{Kind: finding.FixFile, Key: ta, Content: testTA}}}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.False(t, after.Invalid, "%v", after.Warnings)
				require.Equal(t, []string{filepath.Join(dir, "ta", "example.pem")}, after.TrustAnchorFiles)
			}},
		{"postmap builds the missing .db of a hash: table",
			"smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n",
			map[string]string{"tls_policy": "example.com secure\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixCommand, Value: "postmap hash:" + dir + "/tls_policy"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.True(t, before.Invalid)
				require.Contains(t, strings.Join(before.Warnings, "\n"), "is unavailable")
				require.False(t, after.Invalid, "%v", after.Warnings)
				require.Equal(t, Secure, after.Level)
				require.Equal(t, 1, after.Source.Line)
			}},
		{"a row of a hash: table is seen after postmap of its edited source",
			"smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n",
			map[string]string{"tls_policy": "other.example none\n", "tls_policy.db": otherNoneDB(t)}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixCommand, Value: "postmap hash:" + dir + "/tls_policy",
					Requires: []finding.Fix{{Kind: finding.FixFile, Key: dir + "/tls_policy", Content: "example.com encrypt\n"}}}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.False(t, before.Invalid, "%v", before.Warnings)
				require.Equal(t, May, before.Level)
				require.Equal(t, Encrypt, after.Level)
				require.Equal(t, 1, after.Source.Line, "read from the source, as the rebuilt .db holds it")
			}},
		{"an edited source file of a hash: table is not read without postmap",
			"smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n",
			map[string]string{"tls_policy": "other.example none\n", "tls_policy.db": otherNoneDB(t)}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixFile, Key: dir + "/tls_policy", Content: "example.com encrypt\n"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.False(t, after.Invalid, "%v", after.Warnings)
				require.Equal(t, May, after.Level, "Postfix answers from the .db, which has no example.com")
			}},
		{"master.cf -o still wins over a main.cf edit for its transport",
			maps + "relayhost = [relay.example.net]\n",
			map[string]string{"tls_policy": "[relay.example.net] verify\n",
				"master.cf": "smtp unix - - n - - smtp\n  -o smtp_tls_CAfile=/etc/ssl/master.pem\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: "/etc/ssl/other.pem"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, "/etc/ssl/master.pem", before.CAFile)
				require.Equal(t, "/etc/ssl/master.pem", after.CAFile)
			}},
		{"fixes that are not configuration change nothing", maps,
			map[string]string{"tls_policy": "example.com secure\n"}, "user@example.com",
			func(dir string) []finding.Fix {
				return []finding.Fix{{Kind: finding.FixDNSRecord, Key: "_25._tcp.mx.example.com", Value: "IN TLSA 3 1 1 00"},
					{Kind: finding.FixServer, Value: "renew the certificate"}, {Kind: finding.FixMasterCF, Key: "relay", Value: "unix - - n - - smtp"},
					{Kind: finding.FixText, Value: "think"}, {Kind: finding.FixCommand, Value: "postfix reload"}}
			},
			func(t *testing.T, before, after Policy, dir string) {
				require.Equal(t, before.Level, after.Level)
				require.Equal(t, before.Source, after.Source)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			main := base + "smtp_tls_security_level = may\n" + c.main
			s := world(t, V(3, 9, 1), main, c.files)
			dir := filepath.Dir(s.main.Params()[0].File)
			rt, hop := resolve1(t, s, c.dest)
			before, err := s.PolicyFor(ctx, rt, hop.NextHop, "")
			require.NoError(t, err)
			after, err := before.With(ctx, hop.NextHop, c.fixes(dir)...)
			require.NoError(t, err)
			c.check(t, before, after, dir)
			// The original is unchanged.
			again, err := s.PolicyFor(ctx, rt, hop.NextHop, "")
			require.NoError(t, err)
			require.Equal(t, before.Level, again.Level)
			require.Equal(t, before.Source, again.Source)
			require.Equal(t, before.Invalid, again.Invalid)
			// The Resolve hop's policy proves the same way.
			viaHop, err := hop.Policy.With(ctx, hop.NextHop, c.fixes(dir)...)
			require.NoError(t, err)
			require.Equal(t, after.Level, viaHop.Level)
			require.Equal(t, after.Source, viaHop.Source)
		})
	}
}

func TestWithMainCFOrigin(t *testing.T) {
	s := world(t, V(3, 9, 1), base+"smtp_tls_security_level = may\n\n# comment\nsmtp_tls_loglevel = 1\n", nil)
	s2, err := s.With(finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Value: "encrypt"},
		finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_mandatory_ciphers", Value: "high"},
		finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_loglevel", Delete: true})
	require.NoError(t, err)
	p, err := s2.Param("smtp_tls_security_level")
	require.NoError(t, err)
	require.Equal(t, "encrypt", p.Value)
	require.Equal(t, 3, p.Origin.Line, "the edited line keeps its place")
	p, err = s2.Param("smtp_tls_mandatory_ciphers")
	require.NoError(t, err)
	require.Equal(t, 7, p.Origin.Line, "a new parameter goes after the last line")
	p, err = s2.Param("smtp_tls_loglevel")
	require.NoError(t, err)
	require.Equal(t, "default", p.Origin.String())
	o, err := s.Param("smtp_tls_security_level")
	require.NoError(t, err)
	require.Equal(t, "may", o.Value, "the original is unchanged")

	// NewSettings values are main.cf's: an edit replaces them.
	n, err := NewSettings(V(3, 9, 1), map[string]string{"smtp_tls_security_level": "may"})
	require.NoError(t, err)
	n2, err := n.With(finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Value: "secure"})
	require.NoError(t, err)
	l, _, err := n2.GlobalLevel(SMTP)
	require.NoError(t, err)
	require.Equal(t, Secure, l)

	_, err = s.With(finding.Fix{Kind: finding.FixMainCF, Key: "bad name", Value: "x"})
	require.Error(t, err)
	_, err = s.With(finding.Fix{Kind: finding.FixCommand, Value: "postmap hash:/nonexistent/postfixtls/table"})
	require.ErrorContains(t, err, "No such file or directory")
}

func TestWithLiteralPolicy(t *testing.T) {
	ctx := context.Background()
	hop, err := ParseNextHop(SMTP, "example.com", NextHopOptions{DefaultService: "smtp", DNS: true})
	require.NoError(t, err)
	p, err := Policy{Release: V(3, 9, 1)}.With(ctx, hop, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Value: "dane"},
		finding.Fix{Kind: finding.FixMainCF, Key: "smtp_dns_support_level", Value: "dnssec"})
	require.NoError(t, err)
	require.Equal(t, Dane, p.Level)
}

func TestWithFS(t *testing.T) {
	s := world(t, V(3, 9, 1), base, map[string]string{"ca.pem": "disk\n"})
	dir := filepath.Dir(s.main.Params()[0].File)
	s2, err := s.With(finding.Fix{Kind: finding.FixFile, Key: dir + "/ca.pem", Content: "proposed\n"},
		finding.Fix{Kind: finding.FixFile, Key: dir + "/new/x.pem", Content: "new\n"})
	require.NoError(t, err)
	b, err := fs.ReadFile(s2.FS(), strings.TrimPrefix(dir, "/")+"/ca.pem")
	require.NoError(t, err)
	require.Equal(t, "proposed\n", string(b))
	b, err = fs.ReadFile(s.FS(), strings.TrimPrefix(dir, "/")+"/ca.pem")
	require.NoError(t, err)
	require.Equal(t, "disk\n", string(b))
	ents, err := fs.ReadDir(s2.FS(), strings.TrimPrefix(dir, "/")+"/new")
	require.NoError(t, err)
	require.Len(t, ents, 1)
	ents, err = fs.ReadDir(s2.FS(), strings.TrimPrefix(dir, "/"))
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	require.Contains(t, names, "ca.pem")
	require.Contains(t, names, "main.cf")

	// smtp_tls_CAfile is read through the overlay.
	s3, err := s.With(finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: dir + "/ca.pem"},
		finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Value: "encrypt"})
	require.NoError(t, err)
	require.NotEmpty(t, policyOf(t, s3).EngineUnavailable)
	s4, err := s3.With(finding.Fix{Kind: finding.FixFile, Key: dir + "/ca.pem", Content: "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"})
	require.NoError(t, err)
	require.Empty(t, policyOf(t, s4).EngineUnavailable)
}

func policyOf(t *testing.T, s *Settings) Policy {
	t.Helper()
	_, h := resolve1(t, s, "user@example.com")
	return h.Policy
}

func TestWithSharesTables(t *testing.T) {
	ctx := context.Background()
	s, dir, cf := worldCounted(t, base+"smtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"+
		"transport_maps = texthash:{{dir}}/transport\n",
		map[string]string{"tls_policy": "example.com secure\nexample.net encrypt\n", "transport": "example.org relay:[relay.example.net]\n"})
	rt, hop := resolve1(t, s, "user@example.com")
	nPolicy, nTransport := cf.opens(dir+"/tls_policy"), cf.opens(dir+"/transport")
	require.NotZero(t, nPolicy)
	require.NotZero(t, nTransport)
	v, err := s.client(rt.Transport, rt.Client)
	require.NoError(t, err)
	orig := v.policyList.Load()
	for i := 0; i < 50; i++ {
		p, err := hop.Policy.With(ctx, hop.NextHop, finding.Fix{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy",
			Key: "example.com", Value: "verify"}, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_loglevel", Value: "1"})
		require.NoError(t, err)
		require.Equal(t, Verify, p.Level)
		s2, err := s.With(finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: "/x.pem"})
		require.NoError(t, err)
		_, h2 := resolve1(t, s2, "user@example.net")
		require.Equal(t, Encrypt, h2.Policy.Level)
		v2, err := s2.client(rt.Transport, rt.Client)
		require.NoError(t, err)
		require.Same(t, orig, v2.policyList.Load(), "a copy without row edits uses the very same list")
	}
	require.Equal(t, nPolicy, cf.opens(dir+"/tls_policy"), "no copy opens the table again")
	require.Equal(t, nTransport, cf.opens(dir+"/transport"))
	require.Same(t, orig, v.policyList.Load())
	p, err := s.PolicyFor(ctx, rt, hop.NextHop, "")
	require.NoError(t, err)
	require.Equal(t, Secure, p.Level, "the original still answers from the file")

	// A FixFile of the table's own file opens that table (only) again, from the content.
	s3, err := s.With(finding.Fix{Kind: finding.FixFile, Key: dir + "/tls_policy", Content: "example.com none\n"})
	require.NoError(t, err)
	_, h3 := resolve1(t, s3, "user@example.com")
	require.Equal(t, None, h3.Policy.Level)
	require.Equal(t, nPolicy, cf.opens(dir+"/tls_policy"), "the content comes from the fix")
	require.Equal(t, nTransport, cf.opens(dir+"/transport"))
}

func TestWithConcurrent(t *testing.T) {
	ctx := context.Background()
	s := world(t, V(3, 9, 1), base+"smtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n",
		map[string]string{"tls_policy": "example.com secure\n.example.org encrypt\n"})
	dir := filepath.Dir(s.main.Params()[0].File)
	tb := "texthash:" + dir + "/tls_policy"
	var wg sync.WaitGroup
	var fails atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r, err := s.Resolve(ctx, "user@example.com")
				if err != nil || r.Hops[0].Policy.Level != Secure {
					fails.Add(1)
					return
				}
				lv := []string{"encrypt", "verify", "none"}[(g+i)%3]
				p, err := r.Hops[0].Policy.With(ctx, r.Hops[0].NextHop, finding.Fix{Kind: finding.FixTableRow, Table: tb, Key: "example.com", Value: lv})
				want, _ := ParseLevel(lv)
				if err != nil || p.Level != want {
					fails.Add(1)
				}
				s2, err := s.With(finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_security_level", Value: "encrypt"})
				if err != nil {
					fails.Add(1)
					return
				}
				r2, err := s2.Resolve(ctx, "user@sub.example.org")
				if err != nil || r2.Hops[0].Policy.Level != Encrypt {
					fails.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	require.Zero(t, fails.Load())
}

// otherNoneDB is a hash: table that the real postmap built from "other.example none"
// (testdata/tables/other-none).
func otherNoneDB(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/tables/other-none.db")
	require.NoError(t, err)
	return string(b)
}
