package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zimport/zimport/gen"
)

// runDemo creates an instance with a machine owner and a PAT, submits the
// example import with that PAT, waits for the job and prints its result.
func runDemo(ctx context.Context, getenv func(string) string) error {
	base := strings.TrimRight(envOr(getenv, "ZIMPORT_API_URL", "http://127.0.0.1:8080"), "/")
	token, _, _ := strings.Cut(getenv("ZIMPORT_SYSTEM_TOKENS"), ",")
	if token == "" {
		return errors.New("demo: ZIMPORT_SYSTEM_TOKENS is empty")
	}
	file := envOr(getenv, "ZIMPORT_DEMO_FILE", "examples/import.json")
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	c := demoClient{base: base, http: &http.Client{Timeout: 70 * time.Second}}

	fmt.Fprintln(os.Stderr, "demo: creating an instance (POST /instances/_create)")
	created, err := c.submit(ctx, "/instances/_create", token, []byte(`{"instanceName":"Demo","firstOrgName":"Demo Org",
		"machine":{"userName":"importer","name":"Importer","personalAccessToken":{}}}`))
	if err != nil {
		return err
	}
	inst, err := c.wait(ctx, created, token)
	if err != nil {
		return err
	}
	var ir struct {
		InstanceID string `json:"instanceId"`
		PAT        string `json:"pat"`
	}
	if err := json.Unmarshal(inst, &ir); err != nil || ir.PAT == "" {
		return fmt.Errorf("demo: instance job gave no PAT: %s", inst)
	}
	fmt.Fprintf(os.Stderr, "demo: instance %s created\n", ir.InstanceID)
	if f := getenv("ZIMPORT_DEMO_PAT_FILE"); f != "" {
		if err := os.WriteFile(f, []byte(ir.PAT+"\n"), 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	fmt.Fprintf(os.Stderr, "demo: importing %s (POST /import)\n", file)
	job, err := c.submit(ctx, "/import", ir.PAT, body)
	if err != nil {
		return err
	}
	result, err := c.wait(ctx, job, ir.PAT)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, result, "", "  "); err != nil {
		return fmt.Errorf("demo: result is not JSON: %w", err)
	}
	fmt.Println(pretty.String())
	if err := demoHuman(ctx, c, ir.PAT); err != nil {
		return err
	}
	if dir := getenv("ZIMPORT_LOCAL_IMPORT_DIR"); dir != "" {
		if getenv("ZIMPORT_LOCAL_IMPORT_SHARED") != "true" {
			dir = filepath.Join(dir, ir.InstanceID) // each instance reads only its own files
		}
		return demoFile(ctx, c, ir.PAT, dir)
	}
	return nil
}

// demoFile writes a generated import file into the local import directory
// and imports it from there (dataOrgsLocal), printing the job with its
// progress: a file import as users run them.
func demoFile(ctx context.Context, c demoClient, pat, dir string) error {
	const name = "demo-generated.json"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	opts := gen.Options{Orgs: 3, Users: 500, Grants: true, Metadata: 0.5, Members: 0.2, Bad: 0.01, Seed: 1, OrgPrefix: "demo-"}
	out, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	err = gen.Write(out, opts)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo: write %s: %w", name, err)
	}
	fmt.Fprintf(os.Stderr, "demo: importing the generated file %s from the local import directory (POST /import, dataOrgsLocal)\n", filepath.Join(dir, name))
	id, err := c.submit(ctx, "/import", pat, []byte(`{"dataOrgsLocal":{"path":"`+name+`"},"timeout":"10m"}`))
	if err != nil {
		return err
	}
	if _, err := c.wait(ctx, id, pat); err != nil {
		return err
	}
	_, job, err := c.do(ctx, http.MethodGet, "/jobs/"+id, pat, nil)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, job, "", "  "); err != nil {
		return fmt.Errorf("demo: job is not JSON: %w", err)
	}
	fmt.Println(pretty.String())
	fmt.Fprintf(os.Stderr, "demo: the file import's per-entity result: GET /jobs/%s/result (the failed users were made invalid on purpose)\n", id)
	return nil
}

// demoHuman imports one human user synchronously and prints the answer.
func demoHuman(ctx context.Context, c demoClient, pat string) error {
	fmt.Fprintln(os.Stderr, "demo: importing one human user (POST /users/human/_import)")
	code, answer, err := c.do(ctx, http.MethodPost, "/users/human/_import", pat, []byte(`{"userName": "ada.lovelace",
		"profile": {"firstName": "Ada", "lastName": "Lovelace"}, "email": {"email": "ada@example.com", "isEmailVerified": true},
		"hashedPassword": {"value": "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"}}`))
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("demo: POST /users/human/_import = %d %s", code, answer)
	}
	fmt.Println(strings.TrimSpace(string(answer)))
	return nil
}

type demoClient struct {
	base string
	http *http.Client
}

func (c demoClient) do(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("demo: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// submit posts a job and returns its id.
func (c demoClient) submit(ctx context.Context, path, token string, body []byte) (string, error) {
	code, b, err := c.do(ctx, http.MethodPost, path, token, body)
	if err != nil {
		return "", err
	}
	var j struct {
		JobID string `json:"jobId"`
	}
	if code != http.StatusAccepted || json.Unmarshal(b, &j) != nil || j.JobID == "" {
		return "", fmt.Errorf("demo: POST %s answered %d: %s", path, code, b)
	}
	return j.JobID, nil
}

// wait polls a job until it ends and returns its result.
func (c demoClient) wait(ctx context.Context, id, token string) ([]byte, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, b, err := c.do(ctx, http.MethodGet, "/jobs/"+id, token, nil)
		if err != nil {
			return nil, err
		}
		var j struct {
			Status string `json:"status"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &j) != nil {
			return nil, fmt.Errorf("demo: GET /jobs/%s answered %d: %s", id, code, b)
		}
		if j.Status != "queued" && j.Status != "running" {
			fmt.Fprintf(os.Stderr, "demo: job %s ended %s\n", id, j.Status)
			code, b, err := c.do(ctx, http.MethodGet, "/jobs/"+id+"/result", token, nil)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("demo: GET /jobs/%s/result answered %d: %s", id, code, b)
			}
			return b, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("demo: job %s still %s after 2 minutes; is a worker running?", id, j.Status)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
