// Package specs carries shadowtest's example specs into the binary. Each
// directory is one spec directory (CUE package shadow, unified with the
// schema in package schemas); specs_test.go vets every one of them.
package specs

import "embed"

// Demo is the spec directory `shadowtest demo` runs: the demo shop's v1
// against its v2 (see fixtures/DIFFERENCES.md), one file per endpoint group,
// with its traffic at ../../fixtures/traffic/demo.har (embedded by package
// fixtures).
//
//go:embed demo
var Demo embed.FS

// GRPCDemo is the spec directory `shadowtest demo --grpc` runs: the gRPC
// demo shop's v1 against its v2 (see fixtures/DIFFERENCES.md), with the
// shop's .proto (shop.proto, which package fixtures/grpcdemo also compiles
// to serve the shop) and its traffic at
// ../../fixtures/traffic/grpcdemo.jsonl.
//
//go:embed grpcdemo
var GRPCDemo embed.FS
