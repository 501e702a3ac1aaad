// Command policyq answers, for each next-hop string read from standard input, which TLS
// policy Postfix would apply (level and the table entry that decided), the way
// `postmap -q - TABLE` answers table lookups. scripts/bench-policy.sh uses it to compare the
// library's speed with Postfix's own tool on the same keys.
//
//	policyq [-C dir] [-version v] [-o name=value]... < keys
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/policy"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	dir := flag.String("C", "", "Postfix configuration directory (main.cf, master.cf)")
	ver := flag.String("version", "", "Postfix version to emulate (default: the newest known)")
	var over multi
	flag.Var(&over, "o", "override a main.cf parameter (name=value), repeatable")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	ctx := context.Background()
	var v policy.Version
	if *ver != "" {
		var err error
		if v, err = policy.ParseVersion(*ver); err != nil {
			fmt.Fprintln(os.Stderr, "policyq:", err)
			os.Exit(2)
		}
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: v, ConfigDir: *dir, Overrides: over})
	if err != nil {
		fmt.Fprintln(os.Stderr, "policyq:", err)
		os.Exit(2)
	}
	rt := policy.Route{Transport: "smtp", Client: policy.SMTP}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer out.Flush()
	n, hits := 0, 0
	for in.Scan() {
		key := strings.TrimSpace(in.Text())
		if key == "" {
			continue
		}
		hop, err := policy.ParseNextHop(policy.SMTP, key, policy.NextHopOptions{DefaultService: "smtp", DNS: true})
		if err != nil {
			fmt.Fprintf(out, "%s\terror: %v\n", key, err)
			continue
		}
		p, err := s.PolicyFor(ctx, rt, hop, hop.Domain)
		if err != nil {
			fmt.Fprintln(os.Stderr, "policyq:", err)
			out.Flush()
			os.Exit(2) //nolint:gocritic // the profile is not needed on this path
		}
		n++
		if p.Source.Kind == policy.FromPolicyTable {
			hits++
			// key, level and the entry that decided, like postmap's "key<TAB>value".
			out.WriteString(key)
			out.WriteByte('\t')
			out.WriteString(p.Level.String())
			out.WriteByte('\t')
			out.WriteString(p.Source.Table)
			out.WriteByte(':')
			out.WriteString(strconv.Itoa(p.Source.Line))
			out.WriteByte('\n')
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "policyq:", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "policyq: %d keys, %d table hits\n", n, hits)
}
