package load

import (
	"fmt"
	"net/http"
	"strings"
)

// knownHash is a bcrypt hash (cost 12) of "password" from ZITADEL's passwap
// tests: a pre-hashed password is only checked for its format.
const knownHash = "$2a$12$aLYFkieuqJyeynvptPTxpehSViui5WeAPuR2Xw1wui9CPHEaacmFq"

// HumanUsers returns the requests of a run that imports a new human user
// with each request through POST /users/human/_import at baseURL: user names
// "<prefix>-<n>", a pre-hashed password, or a plain one that the default
// password complexity policy accepts when plain is true. orgID, when set,
// is sent as x-zitadel-orgid. With keyed, every request has an
// Idempotency-Key of its own.
func HumanUsers(baseURL, token, orgID, prefix string, plain, keyed bool) func(n int) Request {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
	if orgID != "" {
		h.Set("x-zitadel-orgid", orgID)
	}
	url := strings.TrimSuffix(baseURL, "/") + "/users/human/_import"
	return func(n int) Request {
		password := `"hashedPassword": {"value": "` + knownHash + `"}`
		if plain {
			password = fmt.Sprintf(`"password": "Load-%d-Passw0rd!"`, n)
		}
		body := fmt.Sprintf(`{"userName": "%s-%d", "profile": {"firstName": "Load", "lastName": "User %d"},
			"email": {"email": "%s-%d@load.example.com", "isEmailVerified": true}, %s}`, prefix, n, n, prefix, n, password)
		header := h
		if keyed {
			header = h.Clone()
			header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", prefix, n))
		}
		return Request{Method: http.MethodPost, URL: url, Header: header, Body: []byte(body)}
	}
}
