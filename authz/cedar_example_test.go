package authz_test

import (
	"context"
	"fmt"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/troupehq/troupe/authz"
)

// An Authorizer decides requests against a directory of .cedar files. Here
// the notes policies let owners delete their own notes and admins any note;
// the EntityProvider tells Cedar who owns a note.
func ExampleAuthorizer_Authorize() {
	store, err := authz.LoadPolicies("testdata/cedar/notes")
	if err != nil {
		fmt.Println(err)
		return
	}
	owners := authz.EntityProviderFunc(func(_ context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error) {
		owner := cedar.NewEntityUID(authz.UserEntityType, "alice") // every note is alice's
		return cedar.Entity{Attributes: cedar.NewRecord(cedar.RecordMap{"owner": owner})}, true, nil
	})
	a := authz.NewAuthorizer(authz.AuthorizerConfig{Policies: store, Entities: owners})

	for _, p := range []*authz.Principal{
		{Subject: "alice", Kind: authz.KindUser},
		{Subject: "bob", Kind: authz.KindUser},
		{Subject: "carol", Kind: authz.KindUser, Roles: []string{"admin"}},
	} {
		d, err := a.Authorize(context.Background(), authz.Request{
			Principal: p,
			Action:    "DELETE /api/v2/notes/:id",
			Resource:  cedar.NewEntityUID("Note", "42"),
		})
		fmt.Println(p.Subject, d.Allowed, d.Reasons, err)
	}
	// Output:
	// alice true [notes-delete-own] <nil>
	// bob false [] <nil>
	// carol true [notes-delete-admin] <nil>
}

// A policy file that does not parse is reported with its file, line and
// column, at start-up by LoadPolicies and on reload by LastError.
func ExampleLoadPolicies_error() {
	_, err := authz.LoadPolicies("testdata/cedar/broken.cedar")
	fmt.Println(err)
	// Output:
	// authz: policy testdata/cedar/broken.cedar:4:1: syntax error: "": exact got  want ;
}
