// profgen writes profiles produced by the Go runtime itself, for the end-to-end test
// tests/node/go_runtime.test.mjs: a CPU profile (runtime/pprof.StartCPUProfile around about a
// second of busy work) and a heap profile (pprof.WriteHeapProfile after a few allocations).
// Standard library only, so it builds offline in GOPATH mode:
//
//	GO111MODULE=off go build -o profgen tests/go/profgen/main.go
//	./profgen -cpu cpu.pb.gz -heap heap.pb.gz -duration 1s
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"
)

// Kept reachable so the heap profile has in-use samples too.
var retained [][]byte
var sink uint64

//go:noinline
func hashLoop(deadline time.Time) {
	var sum [32]byte
	for time.Now().Before(deadline) {
		for i := 0; i < 1000; i++ {
			sum = sha256.Sum256(sum[:])
		}
		sink += uint64(sum[0])
	}
}

//go:noinline
func sortLoop(deadline time.Time) {
	data := make([]int, 4096)
	for time.Now().Before(deadline) {
		for i := range data {
			data[i] = (i * 7919) % 4093
		}
		sort.Ints(data)
		sink += uint64(data[0])
	}
}

//go:noinline
func allocateStrings(n int) {
	for i := 0; i < n; i++ {
		s := strings.Repeat("embers", 64+i%64)
		if i%16 == 0 {
			retained = append(retained, []byte(s))
		}
	}
}

//go:noinline
func allocateBuffers(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 4096+i%8192)
		b[0] = byte(i)
		if i%8 == 0 {
			retained = append(retained, b)
		}
	}
}

func run(cpuPath, heapPath string, d time.Duration) error {
	// Sample every allocation above 4 KiB on average, so a short run gives many heap samples.
	runtime.MemProfileRate = 4096

	cpu, err := os.Create(cpuPath)
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	deadline := time.Now().Add(d)
	half := time.Now().Add(d / 2)
	hashLoop(half)
	sortLoop(deadline)
	allocateStrings(20000)
	allocateBuffers(5000)
	pprof.StopCPUProfile()
	if err := cpu.Close(); err != nil {
		return err
	}

	runtime.GC() // the heap profile reports the state as of the last GC
	heap, err := os.Create(heapPath)
	if err != nil {
		return err
	}
	defer heap.Close()
	if err := pprof.WriteHeapProfile(heap); err != nil {
		return err
	}
	runtime.KeepAlive(retained)
	return heap.Close()
}

func main() {
	cpuPath := flag.String("cpu", "cpu.pb.gz", "CPU profile output file")
	heapPath := flag.String("heap", "heap.pb.gz", "heap profile output file")
	d := flag.Duration("duration", time.Second, "how long to burn CPU")
	flag.Parse()
	if err := run(*cpuPath, *heapPath, *d); err != nil {
		fmt.Fprintln(os.Stderr, "profgen:", err)
		os.Exit(1)
	}
	fmt.Printf("sink=%d\n", sink)
}
