package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/zimport/zimport/importdata"
)

// TestSplitTables_FirstTwice: the id reported is the first, in file order,
// that a later org gives again; ids repeated within one org are left to
// their units; many ids go through more than one batch.
func TestSplitTables_FirstTwice(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	def := func(org int, path, kind, key string) importdata.Definition {
		return importdata.Definition{Org: org, Path: path, Kind: kind, Key: key}
	}
	for _, tc := range []struct {
		name      string
		defs      []importdata.Definition
		want      string // path of the reported definition, "" for none
		wantFirst int
	}{
		{"none", []importdata.Definition{def(0, "a", "user id", "u1"), def(1, "b", "user id", "u2")}, "", 0},
		{"within one org", []importdata.Definition{def(0, "a", "user id", "u1"), def(0, "b", "user id", "u1")}, "", 0},
		{"same key, other kind", []importdata.Definition{def(0, "a", "user id", "x"), def(1, "b", "project id", "x")}, "", 0},
		{"across orgs", []importdata.Definition{def(0, "a", "user id", "u1"), def(1, "b", "user id", "u2"), def(2, "c", "user id", "u1")}, "c", 0},
		{"first in file order", []importdata.Definition{
			def(0, "a", "user id", "u1"), def(0, "b", "app id", "p"), def(1, "c", "app id", "p"),
			def(1, "d", "user id", "u1"), def(2, "e", "user id", "u1"),
		}, "c", 0},
		{"the earlier of two", []importdata.Definition{def(0, "a", "user id", "z"), def(1, "b", "user id", "y"), def(2, "c", "user id", "y"), def(3, "d", "user id", "z")}, "c", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.NewSplitTables(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, x := range tc.defs {
				if err := d.Define(ctx, x); err != nil {
					t.Fatal(err)
				}
			}
			got, first, found, err := d.FirstTwice(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if found != (tc.want != "") || found && (got.Path != tc.want || first != tc.wantFirst) {
				t.Errorf("FirstTwice = %+v, orgs[%d], %v; want %q, orgs[%d]", got, first, found, tc.want, tc.wantFirst)
			}
		})
	}
	t.Run("batches", func(t *testing.T) {
		d, err := s.NewSplitTables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		n := 2*splitBatch + 7
		for i := range n {
			if err := d.Define(ctx, def(i/1000, fmt.Sprintf("orgs[%d].humanUsers[%d]", i/1000, i%1000), "user id", fmt.Sprintf("u%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		d.Define(ctx, def(n/1000+1, "last", "user id", "u5"))
		got, first, found, err := d.FirstTwice(ctx)
		if err != nil || !found || got.Path != "last" || first != 0 {
			t.Errorf("FirstTwice = %+v, orgs[%d], %v, %v; want last, orgs[0]", got, first, found, err)
		}
	})
}
