// Package authz will hold JWT authentication and Cedar authorization.
//
// It is reserved by the package layout in DESIGN §2 and has no API yet; see
// the project's open issues for the planned scope.
package authz
