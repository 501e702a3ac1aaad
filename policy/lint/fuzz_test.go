package lint

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/postfixtls/postfixtls/policy"
)

// FuzzLintTable lints arbitrary table text. Lint must not fail, every finding must encode as
// JSON, and reading the table in one-line chunks must give exactly the same findings as one
// chunk (§1.1: chunks are cut only where a logical line must start).
func FuzzLintTable(f *testing.F) {
	for _, s := range []string{
		"example.com secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2\n",
		"example.com secure tls_connection_reuse=yes\n",
		"example.com securee\nexample.com halfdane\n",
		"example.com SECURE MATCH=NEXTHOP:Dot-Nexthop\n",
		"example.com secure match = mx.example.com\n",
		"example.com secure match=mx.example.com,.example.com\n",
		"example.com none ciphers=high foo\n",
		"example.com secure # primary MX\n",
		"example.com fingerprint\n# old key\n    match=AB:CD|EF:01\n",
		"example.com secure {match = mx.example.com:.example.com}\n",
		"example.com secure policy_ttl=60\n",
		"  lead\na may\nA may\n\"q x\" may\n\"unbalanced may\nkey: value\n",
		"*.x.example verify\nx.example. may\n192.0.2.1 encrypt\n[r.example]:587 encrypt\n",
		"a\x00b may\nc may\x00\n\xff\xfe may\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, table string) {
		p := filepath.Join(dir, "tls_policy")
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
		var outs [2]result
		for i, chunk := range []int{1, 1 << 20} {
			r, err := collect(context.Background(), Options{Version: policy.V(3, 7, 11), Tables: []string{p}, ChunkSize: chunk})
			if err != nil {
				t.Fatalf("lint failed: %v", err)
			}
			outs[i] = r
		}
		if !reflect.DeepEqual(outs[0], outs[1]) {
			t.Fatalf("chunked findings differ:\n%v\n%v", outs[0], outs[1])
		}
		if _, err := json.Marshal(outs[0].Findings); err != nil {
			t.Fatalf("findings do not encode: %v", err)
		}
	})
}
