package faults_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Scenarios that do not disturb each other run side by side, each in its own goroutine with
// its own Gomega, so that the suite's wall time is that of the slowest one, not their sum;
// each It then reports one scenario's outcome.

// scenario is one fault and what must hold after it, written against the Gomega it is given.
type scenario func(g Gomega)

// results holds what each scenario of a group failed with (nil: it passed).
type results map[string]error

// concurrently runs the scenarios at once and returns when all have ended.
func concurrently(scenarios map[string]scenario) results {
	var mu sync.Mutex
	out := results{}
	var wg sync.WaitGroup
	for name, run := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := runScenario(run)
			GinkgoWriter.Printf("scenario %s ended after %s: %v\n", name, time.Since(start).Round(time.Second), err)
			mu.Lock()
			out[name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// check fails the spec with the scenario's failure.
func (r results) check(name string) {
	GinkgoHelper()
	err, ok := r[name]
	Expect(ok).To(BeTrue(), "scenario %s did not run", name)
	Expect(err).NotTo(HaveOccurred(), "scenario %s", name)
}

// scenarioFailure carries a failed assertion out of a scenario's goroutine.
type scenarioFailure struct{ message string }

// runScenario runs one scenario with a Gomega whose failures end it with an error naming
// where it failed.
func runScenario(run scenario) (err error) {
	g := NewGomega(func(message string, callerSkip ...int) {
		skip := 0
		if len(callerSkip) > 0 {
			skip = callerSkip[0]
		}
		panic(scenarioFailure{fmt.Sprintf("%s\n%s", message, callers(skip+2))})
	})
	g.SetDefaultEventuallyTimeout(2 * time.Minute)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(scenarioFailure); ok {
				err = errors.New(f.message)
				return
			}
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	run(g)
	return nil
}

// callers lists the test files' lines of the stack from skip on, innermost first.
func callers(skip int) string {
	out := ""
	for i := skip; i < skip+12; i++ {
		_, file, line, ok := runtime.Caller(i)
		if !ok {
			break
		}
		if filepath.Ext(file) == ".go" && filepath.Base(filepath.Dir(file)) == "faults" {
			out += fmt.Sprintf("  at %s:%d\n", filepath.Base(file), line)
		}
	}
	return out
}
