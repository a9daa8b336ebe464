package authz_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/problem"
)

var exampleSecret = []byte("an-example-secret-of-at-least-32-bytes")

// exampleToken signs an HS256 access token as an identity provider would.
func exampleToken(claims jwt.MapClaims) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(exampleSecret)
	if err != nil {
		panic(err)
	}
	return tok
}

func ExampleVerifier_Verify() {
	ctx := context.Background()
	v, err := authz.NewVerifier(ctx, authz.VerifierConfig{
		Algorithms: []string{"HS256"},
		HMACSecret: exampleSecret,
		Issuer:     "showcase",
		Audience:   []string{"showcase-api"},
		CacheSize:  1000,
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	token := exampleToken(jwt.MapClaims{
		"iss": "showcase", "aud": "showcase-api", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "roles": []string{"admin"}, "scope": "notes:read",
	})
	p, err := v.Verify(ctx, token)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Subject, p.Kind, p.HasRole("admin"), p.HasScope("notes:read"))

	_, err = v.Verify(ctx, token+"x")
	var te *authz.TokenError
	fmt.Println(errors.Is(err, authz.ErrInvalidToken), errors.As(err, &te) && te.Reason == "bad signature")
	// Output:
	// alice user true true
	// true true
}

func ExampleNewVerifier_failClosed() {
	_, err := authz.NewVerifier(context.Background(), authz.VerifierConfig{
		Algorithms: []string{"RS256", "none"},
		Audience:   []string{"showcase-api"},
	})
	fmt.Println(err)
	// Output:
	// Issuer: required
	// Algorithms: "none" is never allowed
	// authz: no usable key: set HMACSecret, PublicKeyFiles or JWKSURLs
}

func ExampleMemoryRevocationStore() {
	ctx := context.Background()
	store := authz.NewMemoryRevocationStore(authz.MemoryRevocationConfig{MaxEntries: 10_000})
	v, err := authz.NewVerifier(ctx, authz.VerifierConfig{
		Algorithms: []string{"HS256"}, HMACSecret: exampleSecret,
		Issuer: "showcase", Audience: []string{"showcase-api"},
		Revocation: store, CacheSize: 1000,
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	exp := time.Now().Add(time.Hour)
	token := exampleToken(jwt.MapClaims{"iss": "showcase", "aud": "showcase-api", "sub": "alice", "exp": exp.Unix(), "jti": "t-1"})

	_, err = v.Verify(ctx, token)
	fmt.Println("before:", err)
	_ = store.Revoke(ctx, "t-1", exp) // logout: revoke until the token would expire anyway
	_, err = v.Verify(ctx, token)
	fmt.Println("after:", err)
	// Output:
	// before: <nil>
	// after: invalid token: revoked
}

func ExampleAuthenticate() {
	v, err := authz.NewVerifier(context.Background(), authz.VerifierConfig{
		Algorithms: []string{"HS256"}, HMACSecret: exampleSecret,
		Issuer: "showcase", Audience: []string{"showcase-api"},
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { // the service installs one like this
		var pe *problem.Error
		if errors.As(err, &pe) {
			pe.Render(c.Response(), c.Request())
		}
	}
	e.Use(authz.Authenticate(authz.AuthenticateConfig{
		Verifier: v,
		Rule: func(method, route string) authz.RouteRule {
			return authz.RouteRule{Public: method == http.MethodGet && route == "/api/v2/notes"}
		},
	}))
	hello := func(c echo.Context) error {
		if p := authz.FromContext(c.Request().Context()); p != nil {
			return c.String(http.StatusOK, "hello "+p.Subject)
		}
		return c.String(http.StatusOK, "hello anonymous")
	}
	e.GET("/api/v2/notes", hello)
	e.POST("/api/v2/notes", hello)

	send := func(method, token string) {
		req := httptest.NewRequest(method, "/api/v2/notes", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(method, " ", rec.Code, " ", rec.Header().Get("WWW-Authenticate"))))
	}
	send(http.MethodGet, "")           // public
	send(http.MethodPost, "")          // protected, no token
	send(http.MethodPost, "not.a.jwt") // protected, bad token
	send(http.MethodPost, exampleToken(jwt.MapClaims{
		"iss": "showcase", "aud": "showcase-api", "sub": "bob", "exp": time.Now().Add(time.Minute).Unix(),
	}))
	// Output:
	// GET 200
	// POST 401 Bearer realm="api"
	// POST 401 Bearer realm="api", error="invalid_token"
	// POST 200
}
