package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStore_UnitBytes(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	payload := `{"orgs":[{"orgId":"o1", "humanUsers":[{"userId":"u1"},{"userId":"u2"}], "org":{"name":"One"}}]}`
	job, _, err := s.CreateJob(ctx, NewJob{Kind: KindImport, InstanceID: "inst1", Caller: "system", Timeout: time.Minute,
		SourceField: "dataOrgs", OnConflict: "FAIL", Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	span := func(text string) Span { // the span of a member as it is written in payload
		i := strings.Index(payload, text)
		return Span{int64(i), int64(i + len(text))}
	}
	orgStart, orgEnd := int64(strings.Index(payload, "[")+1), int64(len(payload)-2)
	for _, tc := range []struct {
		name string
		unit Unit
		want string
	}{
		{"members", Unit{Spans: []Span{span(`"orgId":"o1"`), span(`, "org":{"name":"One"}`)}}, `{"orgId":"o1","org":{"name":"One"}}`},
		{"no members", Unit{Spans: []Span{}}, `{}`},
		{"whole org", Unit{SrcStart: orgStart, SrcEnd: orgEnd}, payload[orgStart:orgEnd]},
		{"chunk", Unit{Field: "humanUsers", SrcStart: 50, SrcEnd: 64}, payload[50:64]},
	} {
		tc.unit.JobID = job.ID
		got, err := s.UnitBytes(ctx, tc.unit)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: UnitBytes = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}

	if err := s.FailJob(ctx, job.ID, "ended"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []Unit{{Spans: []Span{span(`"orgId":"o1"`)}}, {SrcStart: 0, SrcEnd: 8}} {
		u.JobID = job.ID
		if _, err := s.UnitBytes(ctx, u); !errors.Is(err, ErrNotFound) {
			t.Errorf("UnitBytes of an ended job's unit (spans %v): err = %v, want ErrNotFound", u.Spans, err)
		}
	}
}
