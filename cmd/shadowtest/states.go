package main

import "github.com/onsi/ginkgo/v2/types"

// typesAbortStates are the Ginkgo spec states that mean the run was cut
// short (a signal, the suite timeout) rather than judged.
const typesAbortStates = types.SpecStateInterrupted | types.SpecStateAborted | types.SpecStateTimedout
