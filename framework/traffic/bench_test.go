package traffic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The reader benchmarks run over generated files of SHADOWTEST_BENCH_MB
// megabytes (default 100), written once per process into a temporary
// directory that is removed at the end. Each format is read by its
// shadowtest reader and, in the same run, by a baseline over the same
// file: encoding/json for HAR and JSONL (each record decoded into a
// json.RawMessage, i.e. parsed and validated without building values) and
// a plain line scan for .gor. Every benchmark reports records/s, MB/s and
// the peak live heap while reading (sampled every millisecond).
//
//	go test ./framework/traffic -run '^$' -bench Readers -benchtime 1x -count 5
//	SHADOWTEST_BENCH_MB=400 go test ./framework/traffic -run '^$' -bench Readers -benchtime 1x -count 3

var benchFiles = struct {
	once sync.Once
	dir  string
	har  string
	gor  string
	jl   string
	err  error
}{}

func benchSize() int64 {
	mb, _ := strconv.Atoi(os.Getenv("SHADOWTEST_BENCH_MB"))
	if mb <= 0 {
		mb = 100
	}
	return int64(mb) << 20
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFiles.dir != "" {
		os.RemoveAll(benchFiles.dir)
	}
	os.Exit(code)
}

func files(b *testing.B) {
	benchFiles.once.Do(func() {
		benchFiles.dir, benchFiles.err = os.MkdirTemp("", "shadowtest-bench-")
		if benchFiles.err != nil {
			return
		}
		size := benchSize()
		benchFiles.har = filepath.Join(benchFiles.dir, "big.har")
		benchFiles.gor = filepath.Join(benchFiles.dir, "big.gor")
		benchFiles.jl = filepath.Join(benchFiles.dir, "big.jsonl")
		benchFiles.err = errors.Join(
			generate(benchFiles.har, size, harRecord, `{"log":{"version":"1.2","creator":{"name":"bench","version":"1"},"entries":[`, ",", "]}}"),
			generate(benchFiles.gor, size, gorRecord, "", "", ""),
			generate(benchFiles.jl, size, jsonlLine, "", "", ""),
		)
	})
	if benchFiles.err != nil {
		b.Fatal(benchFiles.err)
	}
}

// body is a realistic JSON response body of about 1.5 KB.
var body = func() string {
	var b bytes.Buffer
	b.WriteString(`{"id":%d,"items":[`)
	for i := range 12 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","name":"Item number %d","price":%d.99,"tags":["a","b","c"],"stock":true}`, i, i, i*3)
	}
	b.WriteString(`],"currency":"EUR","requestId":"0f8fad5b-d9cb-469f-a165-70867728950e"}`)
	return b.String()
}()

func harRecord(i int) string {
	when := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
	resp, _ := json.Marshal(fmt.Sprintf(body, i))
	return fmt.Sprintf(`{"startedDateTime":%q,"time":12.5,"request":{"method":"GET","url":"https://shop.example/orders/%d?expand=items","httpVersion":"HTTP/1.1","headers":[{"name":"Accept","value":"application/json"},{"name":"User-Agent","value":"bench/1.0"}],"queryString":[{"name":"expand","value":"items"}],"cookies":[],"headersSize":-1,"bodySize":0},"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[{"name":"Content-Type","value":"application/json"},{"name":"Content-Length","value":"1500"}],"cookies":[],"content":{"size":1500,"mimeType":"application/json","text":%s},"redirectURL":"","headersSize":-1,"bodySize":1500},"cache":{},"timings":{"send":0,"wait":10,"receive":2.5},"_priority":"High"}`, when, i, resp)
}

func gorRecord(i int) string {
	ts := int64(1764064800000000000) + int64(i)*1e6
	b := fmt.Sprintf(body, i)
	return fmt.Sprintf("1 %x %d 0\nGET /orders/%d?expand=items HTTP/1.1\r\nHost: shop.example\r\nAccept: application/json\r\nUser-Agent: bench/1.0\r\n\r\n\n%s\n", i, ts, i, GorSeparator) +
		fmt.Sprintf("2 %x %d 1200000\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s\n%s\n", i, ts+1200000, len(b), b, GorSeparator)
}

func jsonlLine(i int) string {
	when := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
	resp, _ := json.Marshal(fmt.Sprintf(body, i))
	return fmt.Sprintf(`{"time":%q,"request":{"method":"GET","url":"/orders/%d?expand=items","headers":{"Accept":["application/json"],"User-Agent":["bench/1.0"]}},"response":{"status":200,"headers":{"Content-Type":["application/json"]},"body":%s}}`+"\n", when, i, resp)
}

// generate writes records until the file reaches size bytes.
func generate(path string, size int64, record func(int) string, head, sep, tail string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(head)
	var n int64
	for i := 0; n < size; i++ {
		if i > 0 {
			w.WriteString(sep)
		}
		r := record(i)
		w.WriteString(r)
		n += int64(len(r) + len(sep))
	}
	w.WriteString(tail)
	return errors.Join(w.Flush(), f.Close())
}

// peakHeap samples the live heap (as of the last GC) every millisecond
// until stop is called and returns the largest value seen, in MB.
func peakHeap() (stop func() float64) {
	done := make(chan struct{})
	result := make(chan float64)
	go func() {
		// The live heap as of the last GC: what a reader retains, without
		// the garbage the GC pacer lets accumulate between cycles.
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- float64(peak) / (1 << 20)
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		return <-result
	}
}

// benchRead reads path with read, which returns the number of records,
// and reports records/s, MB/s and the peak heap.
func benchRead(b *testing.B, path string, read func(io.Reader) (int, error)) {
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	var records int
	var peak float64
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		stop := peakHeap()
		n, err := read(f)
		peak = max(peak, stop())
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		records = n
	}
	b.StopTimer()
	seconds := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(records)/seconds, "records/s")
	b.ReportMetric(peak, "peak-heap-MB")
	b.ReportMetric(float64(info.Size())/(1<<20), "file-MB")
}

func drain(r Reader) (int, error) {
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func BenchmarkReaders(b *testing.B) {
	files(b)
	b.Run("HAR/shadowtest", func(b *testing.B) {
		benchRead(b, benchFiles.har, func(r io.Reader) (int, error) { return drain(NewHARReader(r, "big.har")) })
	})
	b.Run("HAR/encoding-json", func(b *testing.B) {
		benchRead(b, benchFiles.har, jsonHAREntries)
	})
	b.Run("GOR/shadowtest", func(b *testing.B) {
		benchRead(b, benchFiles.gor, func(r io.Reader) (int, error) { return drain(NewGorReader(r, "big.gor")) })
	})
	b.Run("GOR/line-scan", func(b *testing.B) {
		benchRead(b, benchFiles.gor, scanGorRecords)
	})
	b.Run("JSONL/shadowtest", func(b *testing.B) {
		benchRead(b, benchFiles.jl, func(r io.Reader) (int, error) { return drain(NewJSONLReader(r, "big.jsonl")) })
	})
	b.Run("JSONL/encoding-json", func(b *testing.B) {
		benchRead(b, benchFiles.jl, jsonLines)
	})
}

// BenchmarkHARSorted reads the HAR through Sort, which spills runs of
// DefaultRunBytes to disk and merges them: the cost of replaying entries
// in startedDateTime order.
func BenchmarkHARSorted(b *testing.B) {
	files(b)
	benchRead(b, benchFiles.har, func(r io.Reader) (int, error) {
		return drain(Sort(NewHARReader(r, "big.har"), SortOptions{TempDir: benchFiles.dir}))
	})
}

// jsonHAREntries is the encoding/json baseline: walk to log.entries and
// decode each entry into a json.RawMessage.
func jsonHAREntries(r io.Reader) (int, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	for _, want := range []json.Token{json.Delim('{'), "log", json.Delim('{')} {
		if tok, err := dec.Token(); err != nil || tok != want {
			return 0, fmt.Errorf("unexpected %v %v", tok, err)
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0, err
		}
		if tok == "entries" {
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, err
	}
	n := 0
	for dec.More() {
		var entry json.RawMessage
		if err := dec.Decode(&entry); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// jsonLines is the encoding/json baseline for JSONL: a line scan and
// json.Unmarshal of each line into a json.RawMessage.
func jsonLines(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), MaxLineBytes)
	n := 0
	for sc.Scan() {
		var rec json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return n, err
		}
		n++
	}
	return n, sc.Err()
}

// scanGorRecords is the .gor baseline: a plain line scan counting request
// records (separator lines followed by a "1 " meta line).
func scanGorRecords(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), MaxRecordBytes)
	n, afterSeparator := 0, true
	for sc.Scan() {
		line := sc.Bytes()
		if afterSeparator && bytes.HasPrefix(line, []byte("1 ")) {
			n++
		}
		afterSeparator = string(line) == GorSeparator
	}
	return n, sc.Err()
}

// BenchmarkRatios reads each generated file alternately with the
// shadowtest reader and its baseline, rounds times (SHADOWTEST_BENCH_ROUNDS,
// default 5), so that a noisy machine slows both alike, and reports the
// medians: records/s and MB/s of the reader, and reader time / baseline
// time (above 1: slower than the baseline).
//
//	go test ./framework/traffic -run '^$' -bench Ratios -benchtime 1x
func BenchmarkRatios(b *testing.B) {
	files(b)
	rounds, _ := strconv.Atoi(os.Getenv("SHADOWTEST_BENCH_ROUNDS"))
	if rounds <= 0 {
		rounds = 5
	}
	formats := []struct {
		name           string
		path           string
		reader, others func(io.Reader) (int, error)
	}{
		{"HAR", benchFiles.har, func(r io.Reader) (int, error) { return drain(NewHARReader(r, "big.har")) }, jsonHAREntries},
		{"GOR", benchFiles.gor, func(r io.Reader) (int, error) { return drain(NewGorReader(r, "big.gor")) }, scanGorRecords},
		{"JSONL", benchFiles.jl, func(r io.Reader) (int, error) { return drain(NewJSONLReader(r, "big.jsonl")) }, jsonLines},
	}
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			info, err := os.Stat(f.path)
			if err != nil {
				b.Fatal(err)
			}
			timed := func(read func(io.Reader) (int, error)) (time.Duration, int, float64) {
				file, err := os.Open(f.path)
				if err != nil {
					b.Fatal(err)
				}
				defer file.Close()
				runtime.GC()
				stop := peakHeap()
				start := time.Now()
				n, err := read(file)
				elapsed := time.Since(start)
				peak := stop()
				if err != nil {
					b.Fatal(err)
				}
				return elapsed, n, peak
			}
			var ratios, recordsPerSecond, mbPerSecond, peaks []float64
			for range b.N {
				for range rounds {
					mine, n, peak := timed(f.reader)
					base, _, _ := timed(f.others)
					ratios = append(ratios, mine.Seconds()/base.Seconds())
					recordsPerSecond = append(recordsPerSecond, float64(n)/mine.Seconds())
					mbPerSecond = append(mbPerSecond, float64(info.Size())/(1<<20)/mine.Seconds())
					peaks = append(peaks, peak)
				}
			}
			b.ReportMetric(median(ratios), "x-baseline-time")
			b.ReportMetric(median(recordsPerSecond), "records/s")
			b.ReportMetric(median(mbPerSecond), "MB/s")
			b.ReportMetric(slicesMax(peaks), "peak-heap-MB")
			b.ReportMetric(float64(info.Size())/(1<<20), "file-MB")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func slicesMax(xs []float64) float64 { return slices.Max(xs) }
