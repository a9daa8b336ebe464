package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/troupehq/troupe/service/servicetest"
)

// secret turns authentication on, as SHOWCASE_AUTH__JWT__HMAC_SECRET would.
const secret = "showcase-secret-of-at-least-32-bytes"

// bearer is an Authorization header with a token for sub holding roles.
func bearer(t *testing.T, sub string, roles ...string) http.Header {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "showcase", "aud": "showcase-api", "sub": sub, "roles": roles,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
}

// TestShowcaseAuth runs the showcase with a secret: any principal may read
// and create, only the creator or an admin may delete.
func TestShowcaseAuth(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{"AUTH__JWT__HMAC_SECRET": secret}, testOptions()...)
	ada, bob, root := bearer(t, "ada"), bearer(t, "bob"), bearer(t, "root", "admin")

	resp, _ := svc.Do(t, http.MethodGet, "/api/v2/notes", "", nil)
	assertProblemStatus(t, resp, http.StatusUnauthorized)
	if resp, _ := svc.Do(t, http.MethodGet, "/api", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api (public by default) = %d", resp.StatusCode)
	}
	if resp, _ := svc.Do(t, http.MethodGet, "/api/v2/notes/3", "", bob); resp.StatusCode != http.StatusOK {
		t.Errorf("bob reads a note: %d", resp.StatusCode)
	}
	resp, _ = svc.Do(t, http.MethodGet, "/api/v2/notes/3/summary", "", nil)
	assertProblemStatus(t, resp, http.StatusUnauthorized)
	if resp, body := svc.Do(t, http.MethodGet, "/api/v2/notes/3/summary", "", bob); resp.StatusCode != http.StatusOK {
		t.Errorf("bob reads a summary (the WASM component): %d %s", resp.StatusCode, body)
	}

	create := func(h http.Header) int {
		resp, body := svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"mine"}`, h)
		var n note
		if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &n) != nil {
			t.Fatalf("POST = %d %s", resp.StatusCode, body)
		}
		return n.ID
	}
	first, second := create(ada), create(ada)
	del := func(id int, h http.Header) int {
		resp, _ := svc.Do(t, http.MethodDelete, "/api/v2/notes/"+strconv.Itoa(id), "", h)
		return resp.StatusCode
	}
	if got := del(first, bob); got != http.StatusForbidden {
		t.Errorf("bob deletes ada's note: %d, want 403", got)
	}
	if got := del(first, ada); got != http.StatusNoContent {
		t.Errorf("ada deletes her note: %d, want 204", got)
	}
	if got := del(second, root); got != http.StatusNoContent {
		t.Errorf("an admin deletes ada's note: %d, want 204", got)
	}
	if got := del(7, ada); got != http.StatusForbidden {
		t.Errorf("ada deletes a seeded note nobody owns: %d, want 403", got)
	}
}

func assertProblemStatus(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("status %d %q, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
}
