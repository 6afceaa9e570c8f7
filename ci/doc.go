// Package ci holds ready-made pipelines for shadowtest users (GitHub
// Actions, GitLab CI, Jenkins, Kubernetes). It has no code: its tests parse
// every template, lint the GitHub workflows with actionlint, run each
// template's install script against a loopback server laid out like a
// release (and check it refuses a wrong checksum), check that every
// template pins the same release, and execute every shadowtest command the
// templates contain against the demo services, so that no template drifts
// from the CLI. The release configuration itself is tested in ci/release,
// a module of its own.
package ci
