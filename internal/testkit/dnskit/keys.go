package dnskit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Keys are the DNSSEC keys of the test world, as the file base names ldns-keygen wrote
// (NAME.key, NAME.private, NAME.ds in the directory).
type Keys struct {
	KSK, ZSK           string // Zone's keys; the KSK is the trust anchor
	BogusKSK, BogusZSK string // BogusZone's keys
	// UnrelatedDS is the DS record (as ldns-keygen wrote it, with its comment) of a
	// BogusZone KSK that signs nothing: published in Zone, it makes BogusZone bogus.
	UnrelatedDS string
}

// GenerateKeys makes the world's keys (ECDSAP256SHA256) in dir with ldns-keygen. The
// conformance suite's world uses it too, so both serve the same kind of DNSSEC tree.
func GenerateKeys(ctx context.Context, dir string) (Keys, error) {
	var k Keys
	var unrelated string
	for _, g := range []struct {
		dst  *string
		args []string
	}{
		{&k.KSK, []string{"-k", Zone}},
		{&k.ZSK, []string{Zone}},
		{&k.BogusKSK, []string{"-k", BogusZone}},
		{&k.BogusZSK, []string{BogusZone}},
		{&unrelated, []string{"-k", BogusZone}},
	} {
		name, err := runContext(ctx, dir, "ldns-keygen", append([]string{"-a", "ECDSAP256SHA256"}, g.args...)...)
		if err != nil {
			return Keys{}, err
		}
		*g.dst = name
	}
	ds, err := os.ReadFile(filepath.Join(dir, unrelated+".ds"))
	if err != nil {
		return Keys{}, err
	}
	k.UnrelatedDS = string(ds)
	return k, nil
}

// SignZones signs dir/test.zone and dir/bogus.test.zone with ldns-signzone, writing
// test.zone.signed and bogus.test.zone.signed.
func SignZones(ctx context.Context, dir string, k Keys) error {
	if _, err := runContext(ctx, dir, "ldns-signzone", "-o", Zone, Zone+"zone", k.ZSK, k.KSK); err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	if _, err := runContext(ctx, dir, "ldns-signzone", "-o", BogusZone, BogusZone+"zone", k.BogusZSK, k.BogusKSK); err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	return nil
}
