package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/zimport/zimport/gen"
	"github.com/zimport/zimport/importdata"
)

// runGen runs `zimport gen [flags]`: it writes a generated import file to stdout or to -o FILE.
func runGen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: zimport gen [flags]\n\nWrites a generated ZITADEL import file ({\"orgs\":[...]}, the content of dataOrgs or dataOrgsv1).\n\nFlags:")
		fs.PrintDefaults()
	}
	var o gen.Options
	fs.IntVar(&o.Orgs, "orgs", 1, "number of orgs")
	fs.IntVar(&o.Users, "users", 100, "human users per org")
	fs.BoolVar(&o.Grants, "grants", false, "give each org a project with the role \"user\" and each valid user a grant of it")
	fs.Float64Var(&o.Metadata, "metadata", 0, "share (0..1) of valid users with one metadata entry")
	fs.Float64Var(&o.Members, "members", 0, "share (0..1) of valid users that are org members")
	fs.BoolVar(&o.Plain, "plain", false, "random plain passwords (hashed by the import) instead of bcrypt hashes of known ones")
	fs.Float64Var(&o.Bad, "bad", 0, "share (0..1) of users that fail validation (an entity error each)")
	fs.Float64Var(&o.BadTypes, "bad-types", 0, "share (0..1) of users with a JSON value of the wrong type (an entity error each in a file; an inline import refuses the request)")
	fs.BoolVar(&o.V1, "v1", false, "write the v1 format (dataOrgsv1)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of names, languages, phone numbers, metadata, roles and plain passwords")
	fs.StringVar(&o.OrgPrefix, "prefix", "", "prefix of every id and org and user name, so that several files can go into one instance")
	out := fs.String("o", "", "write to `FILE` instead of stdout")
	request := fs.Bool("request", false, "wrap the file as an ImportDataRequest body ({\"dataOrgs\": ...} or {\"dataOrgsv1\": ...}) for POST /import")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if *out == "" {
		return writeGen(stdout, o, *request)
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	err = writeGen(f, o, *request)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("gen: close %s: %w", *out, cerr)
	}
	if err != nil {
		_ = os.Remove(*out) // a partial file is no import file
	}
	return err
}

// writeGen writes the file of o to w, wrapped as a request body when request.
func writeGen(w io.Writer, o gen.Options, request bool) error {
	if request {
		field := importdata.FieldDataOrgs
		if o.V1 {
			field = importdata.FieldDataOrgsV1
		}
		if _, err := fmt.Fprintf(w, "{%q:", field); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	if err := gen.Write(w, o); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if request {
		if _, err := io.WriteString(w, "}\n"); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	return nil
}
