// Package migrations holds zimport's numbered PostgreSQL migrations.
package migrations

import "embed"

// FS holds the migration files, applied in name order.
//
//go:embed *.sql
var FS embed.FS
