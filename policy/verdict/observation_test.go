package verdict_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
)

func TestObservationFromFiles(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	tlsa := "; the host's records\n_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 " + spkiHex(leaf) + "\n\n2 0 1 AABB\n"
	obs, err := verdict.ObservationFromFiles(verdict.ObservationFiles{Host: "mx.example.com", Addr: "192.0.2.1",
		Chain: bytes.NewReader(pki.ChainPEM(leaf, h.Inter)), TLSA: strings.NewReader(tlsa)})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Chain) != 2 || obs.TLSA == nil || len(obs.TLSA.Records) != 2 || obs.TLSA.QName != "_25._tcp.mx.example.com." {
		t.Fatalf("%+v %+v", obs, obs.TLSA)
	}
	if !obs.STARTTLSOffered || !obs.MXSecure || !obs.HaveMX {
		t.Errorf("flags %+v", obs)
	}
	// JSON round trip keeps the chain.
	b, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	var back verdict.Observation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Chain) != 2 || !bytes.Equal(back.Chain[0].Raw, leaf.DER) || back.TLSA.Records[0] != obs.TLSA.Records[0] {
		t.Errorf("round trip lost data")
	}
}

func TestObservationFromFilesErrors(t *testing.T) {
	for _, c := range []struct{ name, chain, tlsa string }{
		{"no PEM certificate", "hello", ""},
		{"broken certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ""},
		{"bad TLSA line", "", "3 1 x zz\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := verdict.ObservationFiles{Host: "mx.example.com"}
			if c.chain != "" {
				in.Chain = strings.NewReader(c.chain)
			}
			if c.tlsa != "" {
				in.TLSA = strings.NewReader(c.tlsa)
			}
			_, err := verdict.ObservationFromFiles(in)
			if !errors.Is(err, verdict.ErrObservation) {
				t.Errorf("err %v, want ErrObservation", err)
			}
		})
	}
}

// FuzzObservationFromFiles feeds arbitrary PEM and TLSA text to the offline readers and
// judges whatever parses: nothing may panic.
func FuzzObservationFromFiles(f *testing.F) {
	h, _ := pki.NewHierarchy()
	leaf, _ := pki.New(pki.Spec{DNS: []string{"mx.example.com"}}, h.Inter)
	f.Add(string(pki.ChainPEM(leaf, h.Inter)), "3 1 1 "+strings.Repeat("ab", 32))
	f.Add(string(pki.ChainPEM(leaf)), "_25._tcp.mx.example.com. IN TLSA 2 0 1 ( AABB\n CCDD )")
	f.Add("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n", "3 1 255 00")
	f.Add("-----BEGIN TRUSTED CERTIFICATE-----\nMAA=\n-----END TRUSTED CERTIFICATE-----\n", "1 1 1\n; comment\n# other")
	f.Add("", "3 1 1 0011 ; trailing comment")
	f.Fuzz(func(t *testing.T, chain, tlsa string) {
		in := verdict.ObservationFiles{Host: "mx.example.com", Addr: "192.0.2.1", Chain: strings.NewReader(chain), TLSA: strings.NewReader(tlsa)}
		obs, err := verdict.ObservationFromFiles(in)
		if err != nil {
			return
		}
		p := policy.Policy{Level: policy.Dane, DANE: &policy.DANEConfig{InsecureMXPolicy: "dane"}}
		hop := policy.NextHop{Key: "example.com", Domain: "example.com", Port: 25, MX: true}
		_ = verdict.Evaluate(p, hop, obs, verdict.EvalOptions{})
		p = policy.Policy{Level: policy.Secure, Match: []string{"nexthop", "dot-nexthop"}}
		_ = verdict.Evaluate(p, hop, obs, verdict.EvalOptions{})
		if _, err := json.Marshal(obs); err != nil {
			t.Fatal(err)
		}
	})
}
