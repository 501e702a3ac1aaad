package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/stretchr/testify/require"
)

func TestSTARTTLSSessionRecordsSNI(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}})
	srv, err := Start(context.Background(), Config{Certificates: []tls.Certificate{pki.TLSCertificate(leaf, h.Inter)}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })

	c, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	rd := bufio.NewReader(c)
	expect := func(prefix string) {
		t.Helper()
		for {
			l, err := rd.ReadString('\n')
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(l, prefix[:3]), l)
			if len(l) > 3 && l[3] == ' ' {
				require.True(t, strings.HasPrefix(l, prefix), l)
				return
			}
		}
	}
	expect("220 ")
	c.Write([]byte("EHLO client\r\n"))
	expect("250 ")
	c.Write([]byte("STARTTLS\r\n"))
	expect("220 2.0.0")
	roots := x509.NewCertPool()
	roots.AddCert(h.Root.Cert)
	tc := tls.Client(c, &tls.Config{ServerName: "mx.example.test", RootCAs: roots})
	require.NoError(t, tc.Handshake())
	tc.Write([]byte("QUIT\r\n"))
	rd = bufio.NewReader(tc)
	expect("221 ")
	tc.Close()
	srv.Close()
	s := srv.Sessions()
	require.Len(t, s, 1)
	require.True(t, s[0].STARTTLS)
	require.Equal(t, "mx.example.test", s[0].SNI)
	require.NoError(t, s[0].Handshake)
}

func TestRejectsNonLoopback(t *testing.T) {
	_, err := Start(context.Background(), Config{Addr: "192.0.2.1:25"})
	require.Error(t, err)
}
