// Package e2e holds zimport's end-to-end tests: they build the real binary,
// run its API and worker processes against real PostgreSQL and Redis, and
// drive them through HTTP. The package has no code besides its tests.
package e2e
