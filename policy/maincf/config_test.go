package maincf

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustParse(t testing.TB, s string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(s), "/etc/postfix/main.cf")
	require.NoError(t, err)
	return f
}

func mustMaster(t testing.TB, s string) *Master {
	t.Helper()
	m, err := ParseMaster(strings.NewReader(s), "/etc/postfix/master.cf")
	require.NoError(t, err)
	return m
}

func TestLayers(t *testing.T) {
	f := mustParse(t, "smtp_tls_security_level = may\nsmtp_tls_loglevel = 1\nrelayhost = [relay.example]:587\n")
	m := mustMaster(t, "relay unix - - n - - smtp\n  -o smtp_tls_security_level=encrypt\n  -o syslog_name=postfix/$service_name\n")
	s, _ := m.Service("relay", "unix")
	ov, err := OverrideLayer("smtp_tls_loglevel = 2")
	require.NoError(t, err)
	d := DefaultsMap{"smtp_tls_security_level": "", "smtp_tls_loglevel": "0", "syslog_name": "${multi_instance_name?{$multi_instance_name}:{postfix}}", "multi_instance_name": "", "smtp_tls_CAfile": ""}
	c := NewConfig(d, MainLayer(f), ServiceLayer(s), ov)
	tests := []struct {
		name, param, want string
		origin            Origin
	}{
		{"§2.4 layering: built-in default is the lowest layer", "smtp_tls_CAfile", "", Origin{Kind: KindDefault}},
		{"§2.4 layering: main.cf overrides the default", "relayhost", "[relay.example]:587", Origin{Kind: KindMainCF, File: "/etc/postfix/main.cf", Line: 3}},
		{"§2.4 layering: master.cf -o overrides main.cf", "smtp_tls_security_level", "encrypt", Origin{Kind: KindMasterCF, File: "/etc/postfix/master.cf", Line: 2, Service: "relay/unix"}},
		{"§2.4 layering: explicit override is the highest layer", "smtp_tls_loglevel", "2", Origin{Kind: KindOverride}},
		{"single_server: service_name is set for the daemon", "syslog_name", "postfix/relay", Origin{Kind: KindMasterCF, File: "/etc/postfix/master.cf", Line: 3, Service: "relay/unix"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := c.Raw(tc.param)
			require.True(t, ok, "Raw(%s)", tc.param)
			require.Equal(t, tc.origin, v.Origin, "Raw(%s)", tc.param)
			got, err := c.Expand(tc.param)
			require.NoError(t, err, "Expand(%s)", tc.param)
			require.Equal(t, tc.want, got, "Expand(%s)", tc.param)
		})
	}
	_, ok := c.Raw("nosuch")
	require.False(t, ok, "undefined parameter reported as defined")
	want := []string{"process_name", "relayhost", "service_name", "smtp_tls_loglevel", "smtp_tls_security_level", "syslog_name"}
	require.Equal(t, want, c.Names())
}

func TestOverrideLayerError(t *testing.T) {
	_, err := OverrideLayer("foo")
	require.ErrorIs(t, err, ErrSyntax, "postconf -o without '='")
	require.EqualError(t, err, "invalid parameter override: foo: missing '=' after attribute name: configuration syntax error")
}

func TestOriginString(t *testing.T) {
	tests := []struct {
		o    Origin
		want string
	}{
		{Origin{Kind: KindMainCF, File: "main.cf", Line: 3}, "main.cf:3"},
		{Origin{Kind: KindMasterCF, File: "master.cf", Line: 9, Service: "smtp/unix"}, "master.cf:9 (service smtp/unix)"},
		{Origin{Kind: KindDefault}, "default"},
		{Origin{Kind: KindOverride}, "override"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.o.String(), "%+v", tc.o)
	}
}

const checkMain = `compatibility_level = 3.6
myhostname = mx.example.org
smtp_tls_policy_maps = texthash:$config_directory/${policy_name}_policy
policy_name = tls
bogus_setting = 1
relayhost = ${relay_name?[$relay_name]:587}
smtp_tls_CAfile = $nosuch_ca
virtual_maps = hash:/etc/postfix/virtual
`

func TestCheck(t *testing.T) {
	f := mustParse(t, checkMain)
	d := DefaultsMap{"compatibility_level": "0", "myhostname": "h", "smtp_tls_policy_maps": "", "relayhost": "", "smtp_tls_CAfile": "", "config_directory": "/etc/postfix", "virtual_alias_maps": "$virtual_maps"}
	c := NewConfig(d, MainLayer(f))
	var got []string
	for _, dg := range c.Check("/etc/postfix") {
		got = append(got, string(dg.Code)+": "+dg.Message)
	}
	want := []string{
		"undefined-parameter: /etc/postfix/main.cf: undefined parameter: relay_name",
		"undefined-parameter: /etc/postfix/main.cf: undefined parameter: relay_name",
		"undefined-parameter: /etc/postfix/main.cf: undefined parameter: nosuch_ca",
		"unused-parameter: /etc/postfix/main.cf: unused parameter: bogus_setting=1",
	}
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got, "postconf checks")
}

const checkMaster = `relay unix - - n - - smtp
  -o bogus_o=1 -o syslog_name=$undefined_o/$user_o
  -o user_o=x -o relay_name=r
`

// TestCheckOracle compares Check with postconf's undefined/unused warnings, for
// main.cf alone and with one master.cf service.
func TestCheckOracle(t *testing.T) {
	res := runPostconfAll(t, []postconfJob{{main: checkMain, master: checkMaster, args: []string{"-n"}}})[0]
	defs := loadOracleDefaults(t)
	s, _ := mustMaster(t, checkMaster).Service("relay", "unix")
	c := NewConfig(defs, MainLayer(mustParse(t, checkMain)), ServiceLayer(s))
	cut := func(w string) string {
		for _, f := range []string{"/main.cf: ", "/master.cf: "} {
			if i := strings.Index(w, f); i >= 0 {
				return w[i:]
			}
		}
		return w
	}
	var theirs []string
	for _, w := range res.warnings {
		if strings.Contains(w, "undefined parameter") || strings.Contains(w, "unused parameter") {
			theirs = append(theirs, cut(w))
		}
	}
	var ours []string
	for _, dg := range c.Check("/x") {
		ours = append(ours, cut(dg.Message))
	}
	sort.Strings(ours)
	sort.Strings(theirs)
	require.Equal(t, theirs, ours, "postconf's warnings")
}

const fullMain = `compatibility_level = 3.6
myhostname = mx.example.org
mydomain = example.org
myorigin = $mydomain
relayhost = [smtp.$mydomain]:587
smtp_tls_security_level = ${{$compatibility_level} >=level {3.6} ? {dane} : {may}}
smtp_tls_CAfile = $config_directory/ca.pem
smtp_tls_policy_maps = texthash:$config_directory/${policy_name}_policy,
    inline:{ { [$relayhost] = secure } }
policy_name = tls
smtp_tls_mandatory_protocols = ${tls_floor:{>=TLSv1.2}}
lmtp_tls_mandatory_protocols = $smtp_tls_mandatory_protocols
smtpd_banner = $myhostname ESMTP $$ ${mail_name?{$mail_name}:{none}}
# a comment
smtp_tls_loglevel = ${{$smtp_tls_security_level} == {dane}?{1}:{0}}
`

// TestExpandAllOracle expands every parameter Postfix knows, with a main.cf that sets
// and references many of them, and compares with postconf -x.
func TestExpandAllOracle(t *testing.T) {
	res := runPostconfAll(t, []postconfJob{{main: fullMain, args: []string{"-x"}}})[0]
	require.Empty(t, res.fatal)
	theirs := parsePostconfListing(res.stdout)
	defs := loadOracleDefaults(t)
	// Dynamic defaults that Postfix computes in C, not with $name: the caller's
	// default table has to supply them.
	for _, n := range []string{"config_directory", "mynetworks", "process_id"} {
		defs[n] = theirs[n]
	}
	c := NewConfigWithOptions(Options{Features: &f37}, defs, MainLayer(mustParse(t, fullMain)))
	require.GreaterOrEqual(t, len(theirs), 500, "parameters postconf -x printed")
	for name, want := range theirs {
		got, err := c.Expand(name)
		if assert.NoError(t, err, name) {
			assert.Equal(t, want, normWS(got), "%s: postconf's value", name)
		}
	}
}

// TestExpandServiceOracle expands master.cf -o values with postconf -P -x.
func TestExpandServiceOracle(t *testing.T) {
	master := "relay unix - - n - - smtp\n  -o syslog_name=postfix/$service_name\n  -o smtp_tls_security_level=${relay_level:{encrypt}}\n  -o smtp_tls_CAfile=$config_directory/$process_name.pem\n"
	res := runPostconfAll(t, []postconfJob{{main: fullMain, master: master, args: []string{"-P", "-x"}}})[0]
	require.Empty(t, res.fatal)
	defs := loadOracleDefaults(t)
	m := mustMaster(t, master)
	s, _ := m.Service("relay", "unix")
	var cfgDir string
	for _, l := range strings.Split(res.stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "relay/unix/smtp_tls_CAfile = "); ok {
			cfgDir = strings.TrimSuffix(v, "/smtp.pem")
		}
	}
	defs["config_directory"] = cfgDir
	c := NewConfigWithOptions(Options{Features: &f37}, defs, MainLayer(mustParse(t, fullMain)), ServiceLayer(s))
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		key, want, _ := strings.Cut(l, " = ")
		name := strings.TrimPrefix(key, "relay/unix/")
		got, err := c.Expand(name)
		if assert.NoError(t, err, key) {
			assert.Equal(t, want, normWS(got), "%s: postconf's value", key)
		}
		n++
	}
	require.Equal(t, 3, n, "settings postconf -P -x printed: %q", res.stdout)
}

func TestExpandReportUndefined(t *testing.T) {
	c := NewConfig(DefaultsMap{"known": ""}, MainLayer(mustParse(t, "a = $b $known ${c?x} $b\n")))
	x, err := c.ExpandReport("$a")
	require.NoError(t, err)
	assert.Equal(t, "   ", x.Value, "mac_expand MAC_PARSE_UNDEF")
	assert.Equal(t, []string{"b", "b"}, x.Undefined, "mac_expand MAC_PARSE_UNDEF")
}
