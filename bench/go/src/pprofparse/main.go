// pprofparse measures Go's own pprof parser (github.com/google/pprof/profile.ParseData) on
// uncompressed profiles, the side-by-side baseline for bench/pprof_decode_bench (issue 3).
// Built offline in GOPATH mode against Debian's golang-github-google-pprof-dev; see
// scripts/bench.sh. Prints one line per file: name, bytes, MB/s of wall time and MB/s of CPU
// time (user + system of the whole process over the parse loop, so the garbage collector's
// background work on other cores counts, as it would on a busy server). Google Benchmark's
// figure for the C++ side is CPU time too; the CPU figure is the one to compare on a machine
// that other work shares.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

func load(path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		r, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			panic(err)
		}
		raw, err = io.ReadAll(r)
		if err != nil {
			panic(err)
		}
	}
	return raw
}

// cpuTime is the user + system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	minTime := 2 * time.Second
	for _, path := range os.Args[1:] {
		data := load(path)
		n := 0
		start := time.Now()
		startCPU := cpuTime()
		for time.Since(start) < minTime {
			if _, err := profile.ParseData(data); err != nil {
				panic(err)
			}
			n++
		}
		secs := time.Since(start).Seconds()
		cpuSecs := (cpuTime() - startCPU).Seconds()
		mb := float64(len(data)) * float64(n) / 1e6
		fmt.Printf("%s %d bytes %.1f MB/s wall, %.1f MB/s CPU (%d parses)\n", filepath.Base(path),
			len(data), mb/secs, mb/cpuSecs, n)
	}
}
