package checkcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoldenVerdicts keeps the JSON verdict of the README's fastmail configuration byte for
// byte: 16 offline questions (four releases, four destinations) whose answers were recorded
// with the command as it stood before the packages were reorganised
// (testdata/golden/caseN.json, with the configuration directory written as DIR; in
// cases.txt a tilde stands for a space inside one argument). A change
// of the JSON contract must show up here as a deliberate change of these files
// (POSTFIXTLS_UPDATE_GOLDEN=1 go test -run TestGoldenVerdicts ./cmd/postfixtls/internal/checkcmd rewrites them;
// read the diff before committing it).
func TestGoldenVerdicts(t *testing.T) {
	dir, err := filepath.Abs("../../../../examples/testdata/fastmail")
	require.NoError(t, err)
	cases, err := os.ReadFile("testdata/golden/cases.txt")
	require.NoError(t, err)
	for i, line := range strings.Split(strings.TrimSpace(string(cases)), "\n") {
		version, args, _ := strings.Cut(line, "|")
		name := "case" + strconv.Itoa(i+1)
		t.Run(name+" "+version+" "+args, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata/golden", name+".json"))
			require.NoError(t, err)
			argv := []string{"-c", dir, "-version", version, "-json"}
			for _, a := range strings.Fields(strings.ReplaceAll(args, "DIR", dir)) {
				argv = append(argv, strings.ReplaceAll(a, "~", " ")) // "3~1~1~ab12" is the record "3 1 1 ab12"
			}
			var out, errb bytes.Buffer
			run(context.Background(), argv, &out, &errb)
			require.Empty(t, errb.String(), "the question must be answered")
			// -json prints one line; the golden files hold it indented.
			var ind bytes.Buffer
			require.NoError(t, json.Indent(&ind, bytes.TrimSpace(out.Bytes()), "", "  "))
			ind.WriteByte('\n')
			got := strings.ReplaceAll(ind.String(), dir, "DIR")
			if os.Getenv("POSTFIXTLS_UPDATE_GOLDEN") == "1" {
				// A deliberate change of the contract: rewrite, then read the diff.
				require.NoError(t, os.WriteFile(filepath.Join("testdata/golden", name+".json"), []byte(got), 0o644))
				return
			}
			require.NotEmpty(t, want)
			assert.Equal(t, string(want), got)
		})
	}
}
