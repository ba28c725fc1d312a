//go:build race

package main

// raceEnabled: the test binary, and so the rotlog it runs, has the race
// detector, which multiplies memory use.
const raceEnabled = true
