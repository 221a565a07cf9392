//go:build !unix

package main

// raiseFileLimit has nothing to raise where there are no rlimits; the
// connection cap is then the default.
func raiseFileLimit() (before, soft, hard uint64, err error) {
	return 0, defaultMaxConnections * 2, defaultMaxConnections * 2, nil
}
