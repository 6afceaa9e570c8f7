package progress_test

import (
	"fmt"
	"time"

	"github.com/shadowtest/shadowtest/framework/progress"
)

// Line formats what the live line and the CI log line show.
func ExampleLine() {
	stats := progress.Stats{Done: 12000, Total: 100000, Compared: 10000, Matched: 9971}
	fmt.Println(progress.Line(stats, 3*time.Second, false))
	// Output: 12,000/100,000 requests (12%)  4,000 req/s  match 99.71%  ETA 22s
}
