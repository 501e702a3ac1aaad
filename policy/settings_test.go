package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGlobalLevelBooleans checks the global level with smtp_tls_security_level empty: the
// obsolete booleans decide, read as mail_conf_bool.c reads them ("yes"/"no" in any case,
// anything else fatal, and then no level).
func TestGlobalLevelBooleans(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		enforce string
		want    Level
		bad     bool
	}{
		{"yes", Verify, false}, {"YES", Verify, false}, {"No", None, false},
		{"true", LevelNotSet, true}, {"1", LevelNotSet, true}, {"on", LevelNotSet, true},
	} {
		t.Run("mail_conf_bool.c "+c.enforce, func(t *testing.T) {
			main := "smtp_tls_security_level =\nsmtp_enforce_tls = " + c.enforce + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(main), 0o644))
			s, err := Load(context.Background(), LoadOptions{Version: V(3, 7, 11), ConfigDir: dir})
			require.NoError(t, err)
			lv, src, err := s.GlobalLevel(SMTP)
			assert.Equal(t, c.want, lv)
			if !c.bad {
				require.NoError(t, err)
				assert.Equal(t, FromLegacy, src.Kind)
				assert.NoError(t, s.StartupError(SMTP))
				return
			}
			var pe *ParamError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, ErrConfig)
			assert.ErrorIs(t, err, pfutil.ErrBadBoolean)
			assert.Equal(t, "bad boolean configuration: smtp_enforce_tls = "+c.enforce, pe.Text)
			assert.Equal(t, filepath.Join(dir, "main.cf")+":2", pe.Param.Origin.String())
			assert.Equal(t, err.Error(), s.StartupError(SMTP).Error())
		})
	}
}

// TestLoadMissingMainCF checks the error of a configuration directory without main.cf
// (mail_conf_suck: fatal): ErrConfig, then the open error with the path once.
func TestLoadMissingMainCF(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(context.Background(), LoadOptions{Version: V(3, 7, 11), ConfigDir: dir})
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.EqualError(t, err, "postfix configuration error: open "+filepath.Join(dir, "main.cf")+": no such file or directory")
}

// TestStartupError checks that the startup checks name the parameter they stop at.
func TestStartupError(t *testing.T) {
	s, err := NewSettings(V(3, 7, 11), map[string]string{"smtp_dns_support_level": "DNSSEC"})
	require.NoError(t, err)
	var pe *ParamError
	require.ErrorAs(t, s.StartupError(SMTP), &pe)
	assert.Equal(t, `invalid smtp_dns_support_level: "DNSSEC"`, pe.Text)
	assert.Equal(t, "override", pe.Param.Origin.String())
	lv, _, err := s.GlobalLevel(SMTP)
	require.NoError(t, err)
	assert.Equal(t, None, lv)
	assert.NoError(t, s.StartupError(LMTP))

	s, err = NewSettings(V(3, 7, 11), map[string]string{"smtp_tls_security_level": "secrue"})
	require.NoError(t, err)
	require.ErrorAs(t, s.StartupError(SMTP), &pe)
	assert.Equal(t, `Invalid TLS level "secrue"`, pe.Text)
	assert.Equal(t, `postfix configuration error: Invalid TLS level "secrue"`, pe.Error())
}

// TestSettingsAccessors checks Bool, Expand, Services and ConfigDiagnostics.
func TestSettingsAccessors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("policy_dir = /etc/p\nsmtputf8_enable = on\nmyhostname = a\nmyhostname = b\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "master.cf"), []byte("relay unix - - n - - smtp\n  -o smtp_tls_policy_maps=texthash:$policy_dir/relay\n"), 0o644))
	s, err := Load(context.Background(), LoadOptions{Version: V(3, 7, 11), ConfigDir: dir})
	require.NoError(t, err)

	_, err = s.Bool("smtputf8_enable", false)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "bad boolean configuration: smtputf8_enable = on", pe.Text)
	b, err := s.Bool("no_such_parameter_in_any_release", true)
	require.NoError(t, err)
	assert.True(t, b)

	svcs := s.Services()
	require.Len(t, svcs, 1)
	require.Len(t, svcs[0].Overrides, 1)
	v, err := s.Expand(svcs[0].Overrides[0].Value)
	require.NoError(t, err)
	assert.Equal(t, "texthash:/etc/p/relay", v)

	diags := s.Diagnostics()
	require.Len(t, diags, 1)
	assert.Equal(t, 4, diags[0].Line)
	assert.True(t, diags[0].Located, "Postfix's text names the file and line itself")
	assert.Equal(t, "warning: "+diags[0].File+", line 4: overriding earlier entry: myhostname=a", diags[0].String())
}

// TestCheckTrustAnchorFile checks the tafile= loader (§6.5): Postfix's open warning naming the
// path as written, and a malformed first PEM object rejected even with a good one after it.
func TestCheckTrustAnchorFile(t *testing.T) {
	good := "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
	fsys := fstest.MapFS{
		"q/good.pem": {Data: []byte(good)},
		"q/bad.pem":  {Data: []byte("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n" + good)},
	}
	ctx := context.Background()
	assert.NoError(t, CheckTrustAnchorFile(ctx, fsys, "/q", "good.pem"))

	err := CheckTrustAnchorFile(ctx, fsys, "/q", "missing.pem")
	require.Error(t, err)
	assert.Equal(t, "error opening trust anchor file: missing.pem: No such file or directory", err.Error())

	err = CheckTrustAnchorFile(ctx, fsys, "/q", "bad.pem")
	require.Error(t, err)
	assert.Empty(t, err.Error(), "Postfix logs no warning of its own")
	var te *dane.TrustAnchorError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, "malformed PEM object", te.Reason)
}
