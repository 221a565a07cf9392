//go:build unix

package main

import "syscall"

// raiseFileLimit raises the soft open-file limit to the hard limit, so the
// connection cap can be as high as the system allows, and returns the limits
// before and after.
func raiseFileLimit() (before, soft, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, 0, err
	}
	before = uint64(lim.Cur)
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return before, uint64(lim.Cur), uint64(lim.Max), err
		}
		lim = raised
	}
	return before, uint64(lim.Cur), uint64(lim.Max), nil
}
