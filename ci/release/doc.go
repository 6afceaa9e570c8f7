// Package release checks the release configuration: the GoReleaser config
// (.goreleaser.yaml) and the Dockerfile at the repository root. It is a
// module of its own so that GoReleaser and cyclonedx-gomod, pinned here as
// go tools, stay out of shadowtest's go.mod. .ci/run runs its tests:
//
//	cd ci/release && go test ./...
package release
