package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/gen"
	"github.com/zimport/zimport/importdata"
)

func TestRunGen_Stdout(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-orgs", "2", "-users", "10", "-grants", "-metadata", "0.5", "-members", "0.2",
		"-plain", "-bad", "0.1", "-seed", "3", "-prefix", "cli-"}
	if err := runGen(args, &out); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	o := gen.Options{Orgs: 2, Users: 10, Grants: true, Metadata: 0.5, Members: 0.2, Plain: true, Bad: 0.1, Seed: 3, OrgPrefix: "cli-"}
	if err := gen.Write(&want, o); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestRunGen_Request(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantField string
		wantErr   bool // ParseRequest refuses the body
	}{
		{"v2", []string{"-request", "-orgs", "2", "-users", "5", "-grants", "-bad", "0.2"}, importdata.FieldDataOrgs, false},
		{"v1", []string{"-request", "-v1", "-users", "5", "-members", "1"}, importdata.FieldDataOrgsV1, false},
		{"bad types", []string{"-request", "-users", "5", "-bad-types", "0.4"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runGen(tt.args, &out); err != nil {
				t.Fatal(err)
			}
			req, err := importdata.ParseRequest(out.Bytes(), 1000)
			if tt.wantErr {
				var re *importdata.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("ParseRequest = %v, want a *RequestError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if req.Field != tt.wantField {
				t.Errorf("field = %q, want %q", req.Field, tt.wantField)
			}
		})
	}
}

func TestRunGen_File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import.json")
	var out bytes.Buffer
	if err := runGen([]string{"-users", "3", "-o", path}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 0 {
		t.Errorf("wrote %d bytes to stdout with -o", out.Len())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := runGen([]string{"-users", "3"}, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), got) {
		t.Error("-o FILE holds other bytes than stdout")
	}
}

func TestRunGen_Errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "not defined"},
		{"argument", []string{"extra"}, "unexpected argument"},
		{"share", []string{"-bad", "1.5"}, "Bad: 1.5"},
		{"no directory", []string{"-o", filepath.Join(t.TempDir(), "missing", "f.json")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runGen(tt.args, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("runGen = %v, want an error with %q", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("wrote %d bytes before failing", out.Len())
			}
		})
	}
}
