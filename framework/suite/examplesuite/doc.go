// Package examplesuite is a complete example of shadowtest used as a
// library inside a team's own Ginkgo suite: see shadow_suite_test.go. It
// has no code of its own.
package examplesuite
