package smtpd_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

// Start serves SMTP on a loopback port picked at run time; Close stops it.
func ExampleStart() {
	srv, err := smtpd.Start(context.Background(), smtpd.Config{Addr: "127.0.0.1:0", NoSTARTTLS: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	banner, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Println(strings.HasPrefix(banner, "220 "))
	// Output:
	// true
}
