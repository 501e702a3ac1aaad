package maincf

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type masterCase struct {
	name      string
	in        string
	service   [2]string // name, type to look up
	overrides []string  // "name=value@line"
	problems  []string  // Diagnostic.Message of the service
	diags     []string  // Master.Diagnostics messages (in addition to problems)
	wantErr   string    // SyntaxError.Error()
	noOracle  bool
}

const stdMaster = `# ==========================================================================
# service type  private unpriv  chroot  wakeup  maxproc command + args
# ==========================================================================
smtp      inet  n       -       y       -       -       smtpd
smtp      unix  -       -       y       -       -       smtp
  -o smtp_tls_security_level=encrypt
# a comment inside the entry
  -o { smtp_tls_policy_maps = texthash:/etc/postfix/a, texthash:/etc/postfix/b }
relay     unix  -       -       y       -       -       smtp
	-o syslog_name=postfix/$service_name -o smtp_helo_timeout=5
	-o smtp_helo_timeout=7
lmtp      unix  -       -       n       -       -       lmtp
127.0.0.1:10025 inet n  -       n       -       -       smtpd -o smtpd_tls_security_level=none
`

var masterCases = []masterCase{
	{name: "master_ent: -o name=value on a continuation line", in: stdMaster, service: [2]string{"smtp", "unix"},
		overrides: []string{"smtp_tls_security_level=encrypt@6", "smtp_tls_policy_maps=texthash:/etc/postfix/a, texthash:/etc/postfix/b@8"}},
	{name: "master_ent: several -o on one line, repeated name keeps order (last wins)", in: stdMaster, service: [2]string{"relay", "unix"},
		overrides: []string{"syslog_name=postfix/$service_name@10", "smtp_helo_timeout=5@10", "smtp_helo_timeout=7@11"}},
	{name: "master_ent: service without -o", in: stdMaster, service: [2]string{"lmtp", "unix"}},
	{name: "master_ent: inet service with host:port name", in: stdMaster, service: [2]string{"127.0.0.1:10025", "inet"},
		overrides: []string{"smtpd_tls_security_level=none@13"}},
	{name: "getopt: -o value glued to the option", in: "smtp unix - - n - - smtp -osmtp_tls_loglevel=1\n", service: [2]string{"smtp", "unix"},
		overrides: []string{"smtp_tls_loglevel=1@1"},
		// postconf 3.7 splits "-osmtp_tls_loglevel=1" at the next 'o' ("glevel = 1");
		// the daemon's getopt() takes the whole rest as the value.
		noOracle: true},
	{name: "getopt: -o after a clustered flag", in: "smtp unix - - n - - smtp -vo smtp_tls_loglevel=2\n", service: [2]string{"smtp", "unix"},
		overrides: []string{"smtp_tls_loglevel=2@1"}},
	{name: "getopt: brace form keeps spaces inside the value", in: "smtp unix - - n - - smtp -o { smtp_tls_mandatory_ciphers = high }\n", service: [2]string{"smtp", "unix"},
		overrides: []string{"smtp_tls_mandatory_ciphers=high@1"}},
	{name: "getopt: options end at the first non-option argument", in: "pipe unix - n n - - pipe flags=F argv=/bin/x -o foo=bar\n", service: [2]string{"pipe", "unix"}},
	{name: "getopt: options end at --", in: "smtp unix - - n - - smtp -- -o a=b\n", service: [2]string{"smtp", "unix"}},
	{name: "getopt: -n sets service_name and takes an argument", in: "smtp unix - - n - - smtp -n other -o a=b\n", service: [2]string{"smtp", "unix"},
		overrides: []string{"a=b@1"}, noOracle: true /* postconf stops at "other" */},
	{name: "daemon: -o without '=' stops the daemon", in: "smtp unix - - n - - smtp -o foo\n", service: [2]string{"smtp", "unix"},
		problems: []string{`invalid "-o foo" option value: missing '=' after attribute name`}, noOracle: true},
	{name: "daemon: unknown option stops the daemon", in: "smtp unix - - n - - smtp -x\n", service: [2]string{"smtp", "unix"},
		problems: []string{`invalid option: x`}, noOracle: true},
	{name: "master_conf: duplicate service, last one is used", in: "smtp unix - - n - - smtp -o a=1\nsmtp unix - - n - - smtp -o a=2\n",
		service: [2]string{"smtp", "unix"}, overrides: []string{"a=2@2"},
		diags: []string{`duplicate master.cf entry for service "smtp" (private/smtp) -- using the last entry`}, noOracle: true},
	{name: "master_ent error: missing type", in: "smtp\n", wantErr: `master.cf: line 1: missing "transport type" field`},
	{name: "master_ent error: type has no default", in: "smtp -\n", wantErr: `master.cf: line 1: field "transport type" has no default value`},
	{name: "master_ent error: bad type", in: "smtp bogus - - n - - smtp\n", wantErr: `master.cf: line 1: bad transport type: bogus`},
	{name: "master_ent error: private inet", in: "# c\nsmtp inet - - n - - smtpd\n", wantErr: `master.cf: line 2: inet service cannot be private`},
	{name: "master_ent error: bad boolean", in: "smtp unix x - n - - smtp\n", wantErr: `master.cf: line 1: field "private": bad value: "x"`},
	{name: "master_ent error: bad wakeup", in: "smtp unix - - n abc - smtp\n", wantErr: `master.cf: line 1: field "wakeup_time": bad value: "abc"`},
	{name: "master_ent error: bad max_proc", in: "smtp unix - - n - -1 smtp\n", wantErr: `master.cf: line 1: field "max_proc": bad value: "-1"`},
	{name: "master_ent error: missing command", in: "smtp unix - - n - -\n", wantErr: `master.cf: line 1: missing "command" field`},
	{name: "master_ent error: command has no default", in: "smtp unix - - n - - -\n", wantErr: `master.cf: line 1: field "command" has no default value`},
	{name: "extpar error: missing }", in: "smtp unix - - n - - smtp\n  -o {a=b\n", wantErr: `master.cf: line 1: missing '}' in "{a=b"`},
	{name: "extpar error: text after }", in: "smtp unix - - n - - smtp -o {a=b}c\n", wantErr: `master.cf: line 1: syntax error after '}' in "{a=b}c"`},
}

func TestParseMaster(t *testing.T) {
	for _, tc := range masterCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMaster(strings.NewReader(tc.in), "master.cf")
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrSyntax)
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			s, ok := m.Service(tc.service[0], tc.service[1])
			require.True(t, ok, "service %v not found", tc.service)
			var got []string
			for _, o := range s.Overrides {
				got = append(got, fmt.Sprintf("%s=%s@%d", o.Name, o.Value, o.Line))
			}
			require.Equal(t, tc.overrides, got, "overrides")
			var probs []string
			for _, p := range s.Problems {
				probs = append(probs, p.Message)
			}
			require.Equal(t, tc.problems, probs, "problems")
			var diags []string
			for _, d := range m.Diagnostics {
				if d.Code != CodeBadDaemonOption {
					diags = append(diags, d.Message)
				}
			}
			require.Equal(t, tc.diags, diags, "diagnostics")
		})
	}
}

// TestParseMasterOracle compares the effective -o settings with postconf -P.
func TestParseMasterOracle(t *testing.T) {
	postconfPath(t)
	var cases []masterCase
	var jobs []postconfJob
	for _, tc := range masterCases {
		if tc.wantErr == "" && !tc.noOracle {
			cases = append(cases, tc)
			jobs = append(jobs, postconfJob{master: tc.in, args: []string{"-P"}})
		}
	}
	results := runPostconfAll(t, jobs)
	for i, tc := range cases {
		res := results[i]
		t.Run(tc.name, func(t *testing.T) {
			require.Empty(t, res.fatal, "postconf")
			m, err := ParseMaster(strings.NewReader(tc.in), "master.cf")
			require.NoError(t, err)
			var ours []string
			for _, s := range m.Services() {
				eff := map[string]string{}
				for _, o := range s.Overrides {
					eff[o.Name] = o.Value
				}
				for n, v := range eff {
					ours = append(ours, s.Key()+"/"+n+" = "+normWS(v))
				}
			}
			var theirs []string
			for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
				if l != "" {
					theirs = append(theirs, l)
				}
			}
			sort.Strings(ours)
			sort.Strings(theirs)
			require.Equal(t, theirs, ours, "postconf -P")
		})
	}
}

func TestServiceNames(t *testing.T) {
	m, err := ParseMaster(strings.NewReader("relay unix - - n - - /usr/lib/postfix/smtp -o a=b\nx unix - - n - - smtp -n y\n"), "master.cf")
	require.NoError(t, err)
	s, _ := m.Service("relay", "unix")
	assert.Equal(t, "smtp", s.ProcessName(), "master_ent process_name")
	assert.Equal(t, "relay", s.ServiceName(), "master_ent service_name")
	assert.Equal(t, "relay/unix", s.Key())
	s, _ = m.Service("x", "unix")
	assert.Equal(t, "y", s.ServiceName(), "-n: service_name")
	_, ok := m.Service("relay", "inet")
	assert.False(t, ok, "a service is identified by name and type")
}
