// Command zimport runs zimport: the HTTP API, a worker, both at once, the
// database migrations, a demo import against a running API, a generated
// import file, or a load test of a running API.
//
//	zimport api | worker | all | migrate | demo | gen [flags] | load users [flags]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "zimport:", err)
		os.Exit(1)
	}
}
