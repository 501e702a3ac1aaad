package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLintTable lints arbitrary table text. Lint must not fail, must print valid JSON, and
// reading the table in one-line chunks must give exactly the same findings as one chunk
// (§1.1: chunks are cut only where a logical line must start).
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
		var outs [2]bytes.Buffer
		var codes [2]int
		for i, chunk := range []string{"1", "1048576"} {
			codes[i] = run(context.Background(), []string{"-json", "-max", "0", "-version", "3.7.11", "-chunk", chunk, p}, &outs[i], &bytes.Buffer{})
		}
		if codes[0] != codes[1] || !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
			t.Fatalf("chunked output differs:\n%s\n%s", outs[0].String(), outs[1].String())
		}
		if codes[0] < 0 || codes[0] > 2 {
			t.Fatalf("exit %d", codes[0])
		}
		var r result
		if err := json.Unmarshal(outs[0].Bytes(), &r); err != nil {
			t.Fatalf("bad JSON: %v\n%s", err, outs[0].String())
		}
	})
}
