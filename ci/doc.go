// Package ci holds ready-made pipelines for shadowtest users (GitHub
// Actions, GitLab CI, Jenkins, Kubernetes). It has no code: its tests parse
// every template, lint the GitHub workflows with actionlint, and execute
// every shadowtest command the templates contain against the demo services,
// so that no template drifts from the CLI.
package ci
