// Package validate holds the offline checks of Troupe's deployment files:
// the Kubernetes manifests of deploy/k8s and of every `troupe new`
// combination, rendered with kustomize and decoded strictly into the
// Kubernetes API types, and the Dockerfiles, parsed and linted with
// BuildKit's own Dockerfile front end. No cluster and no container engine
// is needed.
//
// It is a module of its own so that k8s.io/api, kustomize and BuildKit
// stay out of the framework's go.mod: a service built on Troupe never
// downloads them. .ci/run runs its tests after the main suite:
//
//	cd deploy/validate && go test ./...
package validate
