package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/zimport/zimport/internal/load"
)

// runLoad is `zimport load users`: it imports a new human user with every
// request through POST /users/human/_import of a running API, over many
// connections for a while, and prints the throughput and latencies.
func runLoad(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] != "users" {
		return errors.New("usage: zimport load users [-plain] [-idempotency-keys] [-c 64] [-d 20s] [-url URL] [-token PAT] [-org ID]")
	}
	fs := flag.NewFlagSet("load users", flag.ContinueOnError)
	fs.SetOutput(out)
	url := fs.String("url", envOr(getenv, "ZIMPORT_API_URL", "http://127.0.0.1:8080"), "the API's base URL (ZIMPORT_API_URL)")
	token := fs.String("token", getenv("ZIMPORT_TOKEN"), "a personal access token of the instance (ZIMPORT_TOKEN)")
	org := fs.String("org", "", "the org to import into (x-zitadel-orgid); the token's org when empty")
	plain := fs.Bool("plain", false, "plain passwords, hashed by the API with bcrypt, instead of pre-hashed ones")
	keyed := fs.Bool("idempotency-keys", false, "an Idempotency-Key of its own with every request")
	conns := fs.Int("c", 64, "concurrent connections")
	dur := fs.Duration("d", 20*time.Second, "how long to send requests")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("load users: -token or ZIMPORT_TOKEN is required")
	}
	prefix := "load-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	rep := load.Run(ctx, load.Config{Connections: *conns, Duration: *dur, Next: load.HumanUsers(*url, *token, *org, prefix, *plain, *keyed)})
	fmt.Fprintln(out, rep)
	if rep.FirstError != "" {
		fmt.Fprintln(out, "first error:", rep.FirstError)
	}
	return nil
}
