// Command check is a short example of embedding the library: it checks the destinations
// given as arguments under /etc/postfix (or -c dir) and prints one JSON verdict per line.
// The full command is "postfixtls check" (cmd/postfixtls).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

func main() {
	dir := flag.String("c", "/etc/postfix", "Postfix configuration directory")
	flag.Parse()
	ctx := context.Background()
	s, err := policy.Load(ctx, policy.LoadOptions{ConfigDir: *dir})
	if err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	err = smtpclient.CheckBatch(ctx, s, flag.Args(), smtpclient.CheckOptions{}, smtpclient.BatchOptions{},
		func(r smtpclient.BatchResult) error {
			if r.Err != nil {
				log.Printf("%s: %v", r.Destination, r.Err)
				return nil
			}
			return enc.Encode(r.Verdict)
		})
	if err != nil {
		log.Fatal(err)
	}
}
