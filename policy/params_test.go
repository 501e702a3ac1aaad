package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKnownParameter: Postfix's parameters, the module's newer client parameters and the
// per-transport ones of master.cf services are known; a typo is not.
func TestKnownParameter(t *testing.T) {
	v := V(3, 7, 11)
	for _, n := range []string{"myhostname", "smtp_tls_security_level", "message_size_limit", "lmtp_tls_CAfile"} {
		assert.True(t, KnownParameter(v, n, nil), n)
	}
	assert.True(t, KnownParameter(V(3, 9, 0), "smtp_tls_enable_rpk", nil))
	assert.True(t, KnownParameter(v, "relay_destination_concurrency_limit", []string{"relay"}))
	assert.False(t, KnownParameter(v, "relay_destination_concurrency_limit", nil))
	for _, n := range []string{"smtp_tls_security_levle", "", "# comment", "Parameter"} {
		assert.False(t, KnownParameter(v, n, nil), n)
	}
}

// TestOverrideWarnings: postconf's "unused parameter" warning for an -o typo.
func TestOverrideWarnings(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("compatibility_level = 3.6\n"), 0o644))
	s, err := Load(context.Background(), LoadOptions{Version: V(3, 7, 11), ConfigDir: dir,
		Overrides: []string{"smtp_tls_security_levle=secure", "smtp_tls_loglevel=1"}})
	require.NoError(t, err)
	assert.Equal(t, []string{dir + "/main.cf: unused parameter: smtp_tls_security_levle=secure"}, s.OverrideWarnings())
}

// TestCommandLinePolicy: LoadOptions.CommandLine replaces the table's policy, and says so.
func TestCommandLinePolicy(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls_policy"), []byte("example.com encrypt\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"),
		[]byte("smtp_tls_policy_maps = texthash:"+dir+"/tls_policy\n"), 0o644))
	ctx := context.Background()
	s, err := Load(ctx, LoadOptions{Version: V(3, 7, 11), ConfigDir: dir, CommandLine: "secure match=nexthop:.example.net"})
	require.NoError(t, err)
	r, err := s.Resolve(ctx, "user@example.com")
	require.NoError(t, err)
	require.NotEmpty(t, r.Hops)
	p := r.Hops[0].Policy
	assert.Equal(t, Secure, p.Level)
	assert.Equal(t, []string{"nexthop", ".example.net"}, p.Match)
	assert.Equal(t, FromCommandLine, p.Source.Kind)
	assert.Equal(t, "command line: secure match=nexthop:.example.net", p.Source.String())

	// An invalid command-line policy is invalid as the same table entry would be.
	s, err = Load(ctx, LoadOptions{Version: V(3, 7, 11), ConfigDir: dir, CommandLine: "secure bogus=1"})
	require.NoError(t, err)
	r, err = s.Resolve(ctx, "example.com")
	require.NoError(t, err)
	assert.True(t, r.Hops[0].Policy.Invalid)
	assert.Equal(t, FromCommandLine, r.Hops[0].Policy.Source.Kind)
}
