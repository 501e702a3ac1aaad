// Command explain is a short example of embedding package maillog: it reads a Postfix log
// on standard input and prints, per destination with failed deliveries, Postfix's verdict.
// The full command is "postfixtls explain" (cmd/postfixtls).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/postfixtls/postfixtls/maillog"
)

func main() {
	ctx := context.Background()
	c := maillog.NewCollector(maillog.ExplainOptions{})
	r := maillog.NewReader(os.Stdin, maillog.Options{})
	for {
		d, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		c.Add(ctx, d)
	}
	err := c.Each(ctx, func(e *maillog.Explanation) error {
		_, err := fmt.Printf("%s: %s\n", e.Destination, e.Verdict)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
