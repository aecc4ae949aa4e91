package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// TestFuzz_NoDataErrorFailsAnImport imports testdata/allkinds.json (every
// kind) many times with its values replaced at random by hostile ones of
// the same JSON type: empty, blank, very long, NUL, control and bidi
// characters, quotes, huge and tiny numbers. Whatever the API accepts must
// end succeeded or completed_with_errors, with every problem an entity's
// error: PostgreSQL never refuses a unit (a refusal would be reported as
// "the database rejected the data").
func TestFuzz_NoDataErrorFailsAnImport(t *testing.T) {
	if testing.Short() {
		t.Skip("imports allkinds.json 40 times")
	}
	base, err := os.ReadFile("testdata/allkinds.json")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t)
	s.startWorker("w1")
	_, pat := s.createInstance("Fuzz")
	accepted, withErrors := 0, 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		body := mutate(t, base, rng, fmt.Sprintf("s%d-", seed))
		code, answer := s.do("POST", "/import", pat, body)
		if code == 400 {
			t.Logf("seed %d: %s", seed, tail(answer, 300))
			continue // a value whose type the API checks
		}
		if code != 202 {
			t.Fatalf("seed %d: POST /import = %d %s", seed, code, answer)
		}
		accepted++
		id := jobID(t, answer)
		job := s.waitJob(id, pat, 2*time.Minute)
		res := s.result(id, pat)
		st := job["status"]
		if st != "succeeded" && st != "completed_with_errors" || bytes.Contains(res, []byte("database rejected")) {
			t.Errorf("seed %d: job %v %v\n%s", seed, st, job["error"], tail(res, 2000))
		}
		if st == "completed_with_errors" {
			withErrors++
		}
	}
	t.Logf("%d of 40 mutated imports accepted, %d of them with entity errors", accepted, withErrors)
	if accepted < 10 || withErrors < accepted/2 {
		t.Errorf("%d of 40 mutated imports accepted, %d with entity errors: the test hardly tried", accepted, withErrors)
	}
}

// hostileStrings and hostileNumbers replace the values of a document.
var (
	hostileStrings = []string{"", " ", "  padded  ", "\t", strings.Repeat("é", 300), strings.Repeat("😀", 120),
		"\u202eevil", "'; DROP TABLE users; --", `"quoted"`, `back\slash`, "x@y", "%s%n%d",
		strings.Repeat("a", 5000), "null", "-1", "99999999999999999999999999", "\u00ad\u200b", "Ä", "line\nbreak"}
	// Numbers are unsigned integers of 32 or 64 bits in ImportDataRequest;
	// others are refused at submission, and NUL characters too.
	hostileNumbers = []string{"0", "1", "4294967295"}
)

// mutate replaces about a third of the string and number values of doc
// (not member names) with hostile ones; ids (values of members ending in
// "Id" or named "id") get prefix instead, so that orgs of different runs
// do not collide.
func mutate(t *testing.T, doc []byte, rng *rand.Rand, prefix string) []byte {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(doc))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	lastName := ""
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		kind, n := dec.StackIndex(dec.StackDepth())
		isName := kind == '{' && n%2 == 1
		switch {
		case isName:
			lastName = tok.String()
		case tok.Kind() == '"' && (strings.HasSuffix(lastName, "Id") || lastName == "id" || lastName == "orgId"):
			tok = jsontext.String(prefix + tok.String())
		case tok.Kind() == '"' && !typed(lastName, tok.String()) && rng.IntN(3) == 0:
			tok = jsontext.String(hostileStrings[rng.IntN(len(hostileStrings))])
		case tok.Kind() == '0' && rng.IntN(3) == 0:
			if err := enc.WriteValue(jsontext.Value(hostileNumbers[rng.IntN(len(hostileNumbers))])); err != nil {
				t.Fatalf("write value: %v", err)
			}
			continue
		}
		if err := enc.WriteToken(tok); err != nil {
			t.Fatalf("write token: %v", err)
		}
	}
	return out.Bytes()
}

// typedPattern matches string values of types that the API checks at
// submission: enum names, durations.
var typedPattern = regexp.MustCompile(`^([A-Z][A-Z0-9_]+|[0-9.]+s)$`)

// typed reports whether v, the value of member name, is of a type that
// the API checks at submission (an enum, a duration, a timestamp, base64):
// a hostile value there only gets the request refused.
func typed(name, v string) bool {
	if _, err := time.Parse(time.RFC3339, v); err == nil {
		return true
	}
	return typedPattern.MatchString(v) || name == "publicKey" || name == "value" || name == "timeout"
}
