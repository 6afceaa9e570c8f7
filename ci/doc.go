// Package ci holds ready-made pipelines for shadowtest users (GitHub
// Actions, GitLab CI, Jenkins, Kubernetes), and under monitoring/ a Grafana
// dashboard and Prometheus alert rules for `shadowtest proxy`. It has no
// code: its tests parse every template, lint the GitHub workflows with
// actionlint, and execute every shadowtest command the templates contain
// against the demo services, so that no template drifts from the CLI; they
// check the alert rules with promtool and every metric the monitoring files
// name against a real proxy's /metrics.
package ci
