package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"testing"
	"time"
)

type obj = map[string]any

// allKindsImport returns an import of orgs orgs, each with every kind of
// entity and users human users, all valid: project grants go to the next
// org, whose user grants and grant members use them.
func allKindsImport(t testing.TB, orgs, users int) []byte {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	text := func(lang string) obj { return obj{"language": lang, "subject": "Subject", "text": "Text"} }
	var list []obj
	for o := range orgs {
		id := fmt.Sprintf("k%03d", o)
		prev := fmt.Sprintf("k%03d", (o+orgs-1)%orgs)
		humans := make([]obj, users)
		grants := make([]obj, users)
		metadata := make([]obj, users)
		for u := range users {
			uid := fmt.Sprintf("%s-u%05d", id, u)
			humans[u] = obj{"userId": uid, "user": obj{"userName": uid,
				"profile":        obj{"firstName": "F", "lastName": "L", "preferredLanguage": "en"},
				"email":          obj{"email": uid + "@example.com", "isEmailVerified": true},
				"hashedPassword": obj{"value": "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"}}}
			grants[u] = obj{"userId": uid, "projectId": "p-" + id, "roleKeys": []string{"user"}}
			metadata[u] = obj{"id": uid, "key": "team", "value": "Ymx1ZQ=="}
		}
		// A user of this org on the previous org's project, through its grant.
		grants = append(grants, obj{"userId": id + "-u00000", "projectId": "p-" + prev, "projectGrantId": "g-" + prev, "roleKeys": []string{"user"}})
		list = append(list, obj{
			"orgId": id, "org": obj{"name": "Org " + id}, "orgState": "ORG_STATE_ACTIVE",
			"domainPolicy":  obj{"validateOrgDomains": true},
			"domains":       []obj{{"domainName": id + ".example", "isVerified": true, "isPrimary": true}},
			"labelPolicy":   obj{"primaryColor": "#5469d4", "themeMode": "THEME_MODE_AUTO"},
			"lockoutPolicy": obj{"maxPasswordAttempts": 5},
			"oidcIdps": []obj{{"idpId": "oidc-" + id, "idp": obj{"name": "SSO", "clientId": "c", "clientSecret": "s",
				"issuer": "https://sso.example", "scopes": []string{"openid"}}}},
			"jwtIdps": []obj{{"idpId": "jwt-" + id, "idp": obj{"name": "JWT", "jwtEndpoint": "https://j.example/jwt",
				"issuer": "https://j.example", "keysEndpoint": "https://j.example/keys", "headerName": "x-auth"}}},
			"loginPolicy": obj{"allowUsernamePassword": true, "secondFactors": []string{"SECOND_FACTOR_TYPE_OTP"},
				"idps": []obj{{"idpId": "oidc-" + id, "ownerType": "IDP_OWNER_TYPE_ORG"}}},
			"passwordComplexityPolicy": obj{"minLength": 8, "hasNumber": true},
			"privacyPolicy":            obj{"tosLink": "https://example.com/tos", "supportEmail": "help@example.com"},
			"loginTexts":               []obj{{"language": "en", "loginText": obj{"title": "Hi"}}},
			"initMessages":             []obj{text("en")}, "passwordResetMessages": []obj{text("en")},
			"verifyEmailMessages": []obj{text("en")}, "verifyPhoneMessages": []obj{text("en")},
			"domainClaimedMessages": []obj{text("en")}, "passwordlessRegistrationMessages": []obj{text("en")},
			"inviteUserMessages": []obj{text("en")}, "verifySmsOtpMessages": []obj{{"language": "en", "text": "Code"}},
			"verifyEmailOtpMessages": []obj{text("en")},
			"humanUsers":             humans,
			"machineUsers":           []obj{{"userId": id + "-bot", "user": obj{"userName": id + "-bot", "name": "Bot"}}},
			"userMetadata":           metadata,
			"machineKeys":            []obj{{"keyId": id + "-key", "userId": id + "-bot", "type": "KEY_TYPE_JSON", "publicKey": key}},
			"userLinks":              []obj{{"userId": id + "-u00001", "idpId": "oidc-" + id, "providedUserId": "ext-1", "providedUserName": "one"}},
			"projects":               []obj{{"projectId": "p-" + id, "project": obj{"name": "Project"}}},
			"oidcApps": []obj{{"appId": "web-" + id, "app": obj{"projectId": "p-" + id, "name": "Web",
				"redirectUris": []string{"https://app.example/cb"}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}}},
			"apiApps":      []obj{{"appId": "api-" + id, "app": obj{"projectId": "p-" + id, "name": "API", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}},
			"appKeys":      []obj{{"id": "ak-" + id, "projectId": "p-" + id, "appId": "api-" + id, "type": "KEY_TYPE_JSON", "publicKey": key}},
			"actions":      []obj{{"actionId": "act-" + id, "action": obj{"name": "claim", "script": "function claim() {}", "timeout": "5s"}}},
			"projectRoles": []obj{{"projectId": "p-" + id, "roleKey": "user", "displayName": "User"}},
			"triggerActions": []obj{{"flowType": "FLOW_TYPE_EXTERNAL_AUTHENTICATION", "triggerType": "TRIGGER_TYPE_POST_AUTHENTICATION",
				"actionIds": []string{"act-" + id}}},
			"projectGrants":       []obj{{"grantId": "g-" + id, "projectGrant": obj{"projectId": "p-" + id, "grantedOrgId": fmt.Sprintf("k%03d", (o+1)%orgs), "roleKeys": []string{"user"}}}},
			"userGrants":          grants,
			"orgMembers":          []obj{{"userId": id + "-u00000", "roles": []string{"ORG_OWNER"}}},
			"projectGrantMembers": []obj{{"projectId": "p-" + prev, "grantId": "g-" + prev, "userId": id + "-u00002", "roles": []string{"PROJECT_GRANT_OWNER"}}},
			"projectMembers":      []obj{{"projectId": "p-" + id, "userId": id + "-u00001", "roles": []string{"PROJECT_OWNER"}}},
		})
	}
	b, err := json.Marshal(obj{"timeout": "30m", "dataOrgs": obj{"orgs": list}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkImport_AllKinds100 imports 100 orgs with every kind of entity
// and 100 users each (about 33,000 entities), end to end on one worker
// process, and reports entities per second and the worker's peak memory.
func BenchmarkImport_AllKinds100(b *testing.B) {
	s := newStack(b, "ZIMPORT_LOG_LEVEL=warn")
	worker := s.startWorker("bench")
	body := allKindsImport(b, 100, 100)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var total time.Duration
	entities := 0
	for i := range b.N {
		_, pat := s.createInstance(fmt.Sprintf("Bench %d", i))
		start := time.Now()
		id := s.submit(pat, body)
		job := s.waitJob(id, pat, 10*time.Minute)
		total += time.Since(start)
		if job["status"] != "succeeded" {
			b.Fatalf("job ended %v: %s", job["status"], s.result(id, pat))
		}
		entities += countDone(job)
	}
	b.ReportMetric(float64(entities)/total.Seconds(), "entities/s")
	if kib, err := peakRSSKiB(worker.Process.Pid); err == nil {
		b.ReportMetric(float64(kib)/1024, "worker-peak-MiB")
	}
}

// BenchmarkImport_DryRunAllKinds100 dry-runs the import of
// BenchmarkImport_AllKinds100 with onConflict SKIP on an instance that holds
// it already: the scratch copy of the instance's ~33,000 rows, and every
// entity found existing. It reports entities checked per second.
func BenchmarkImport_DryRunAllKinds100(b *testing.B) {
	s := newStack(b, "ZIMPORT_LOG_LEVEL=warn")
	s.startWorker("bench")
	body := allKindsImport(b, 100, 100)
	_, pat := s.createInstance("Dry run bench")
	if job := s.waitJob(s.submit(pat, body), pat, 10*time.Minute); job["status"] != "succeeded" {
		b.Fatalf("import ended %v", job["status"])
	}
	dry := bytes.Replace(body, []byte(`"timeout":"30m"`), []byte(`"timeout":"30m","dryRun":true,"onConflict":"SKIP"`), 1)
	if bytes.Equal(dry, body) {
		b.Fatal("the import has no timeout member to add the options to")
	}
	b.SetBytes(int64(len(dry)))
	b.ResetTimer()
	var total time.Duration
	entities := 0
	for range b.N {
		start := time.Now()
		id := s.submit(pat, dry)
		job := s.waitJob(id, pat, 10*time.Minute)
		total += time.Since(start)
		if job["status"] != "succeeded" {
			b.Fatalf("dry run ended %v", job["status"])
		}
		entities += countOutcomes(job, "skipped")
	}
	b.ReportMetric(float64(entities)/total.Seconds(), "entities/s")
}

// countDone sums the entities done of every kind in a job's progress.
func countDone(job map[string]any) int { return countOutcomes(job, "done") }

// countOutcomes sums one outcome ("done", "skipped") of every kind in a
// job's progress.
func countOutcomes(job map[string]any, outcome string) int {
	n := 0
	p, _ := job["progress"].(map[string]any)
	kinds, _ := p["kinds"].(map[string]any)
	for _, k := range kinds {
		if m, ok := k.(map[string]any); ok {
			d, _ := m[outcome].(float64)
			n += int(d)
		}
	}
	return n
}
