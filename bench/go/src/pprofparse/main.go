// pprofparse measures Go's own pprof parser (github.com/google/pprof/profile.ParseData) on
// uncompressed profiles, the side-by-side baseline for bench/pprof_decode_bench (issue 3).
// Built offline in GOPATH mode against Debian's golang-github-google-pprof-dev; see
// scripts/bench.sh. Prints one line per file: name, bytes, MB/s (CPU time of the parse loop).
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

func main() {
	minTime := 2 * time.Second
	for _, path := range os.Args[1:] {
		data := load(path)
		n := 0
		start := time.Now()
		for time.Since(start) < minTime {
			if _, err := profile.ParseData(data); err != nil {
				panic(err)
			}
			n++
		}
		secs := time.Since(start).Seconds()
		fmt.Printf("%s %d bytes %.1f MB/s (%d parses)\n", filepath.Base(path), len(data),
			float64(len(data))*float64(n)/secs/1e6, n)
	}
}
