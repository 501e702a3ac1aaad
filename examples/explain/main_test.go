package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunSeedWithConfig(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_policy_maps = texthash:"+filepath.Join(dir, "tls_policy")+"\nsmtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls_policy"), []byte("fastmail.test secure\n"), 0o644))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-C", dir, "../../maillog/testdata/oracle/fastmail-secure-l2.log"}, nil, &out, &errb)
	require.Equal(t, exitFailed, code, errb.String())
	require.Contains(t, out.String(), "fix: fastmail.test secure match=.messagingengine.test")
	require.Contains(t, out.String(), "== fastmail.test (1 deliveries: deferred 1; 1 recipients)")
}

func TestRunJSONStdinGroupsAndOrders(t *testing.T) {
	var in bytes.Buffer
	for _, f := range []string{"verify-wrong-ca-l1", "fastmail-secure-l1", "verify-expired-l1", "fastmail-verify-l1"} {
		b, err := os.ReadFile("../../maillog/testdata/oracle/" + f + ".log")
		require.NoError(t, err)
		in.Write(b)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json"}, &in, &out, &errb)
	require.Equal(t, exitFailed, code, errb.String())
	var res struct {
		Version      string `json:"log_version"`
		Explanations []struct {
			Destination string
			Deliveries  int
			Statuses    map[string]int
			Missing     []string
		}
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Equal(t, "3.7.11", res.Version)
	require.Len(t, res.Explanations, 2, "fastmail.test and example.test (the verify delivery succeeded)")
	// newest first: example.test's expired-certificate deferral is after fastmail's.
	require.Equal(t, "example.test", res.Explanations[0].Destination)
	require.Equal(t, 2, res.Explanations[0].Deliveries)
	require.Equal(t, "fastmail.test", res.Explanations[1].Destination)
	require.Equal(t, map[string]int{"deferred": 1, "sent": 1}, res.Explanations[1].Statuses)
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), []string{"-nope"}, nil, &out, &errb))
	require.Equal(t, exitUsage, run(context.Background(), []string{"/nonexistent/file"}, nil, &out, &errb))
	require.Equal(t, exitOK, run(context.Background(), nil, strings.NewReader(""), &out, &errb))
}

// TestRunMissingMainCF checks that a -C directory without main.cf is a usage error whose
// text names the path once (Postfix's mail_conf_suck is fatal there too).
func TestRunMissingMainCF(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-C", dir, "../../maillog/testdata/oracle/dane-311-mismatch-l1.log"}, nil, &out, &errb)
	require.Equal(t, exitUsage, code)
	require.Equal(t, "explain: postfix configuration error: open "+filepath.Join(dir, "main.cf")+": no such file or directory\n", errb.String())
}
